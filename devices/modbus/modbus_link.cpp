#include "devices/modbus/modbus_link.hpp"

#include <sys/stat.h>

#include "harness/config/config_error.hpp"
#include "harness/config/config_node.hpp"

namespace zhil::modbus {

namespace {

std::vector<int> parse_units(const ConfigNode& n) {
  std::vector<int> out;
  if (n.is_sequence()) {
    for (const ConfigNode& u : n.items()) out.push_back(static_cast<int>(u.as_integer(1, 247)));
  } else {
    const std::string s = n.as_string();
    const auto dots = s.find("..");
    if (dots == std::string::npos) {
      out.push_back(static_cast<int>(n.as_integer(1, 247)));
    } else {
      int a = 0, b = 0;
      try {
        a = std::stoi(s.substr(0, dots));
        b = std::stoi(s.substr(dots + 2));
      } catch (const std::exception&) {
        n.fail("units: expected a list, a number or a range FIRST..LAST");
      }
      if (a < 1 || b > 247 || b < a) n.fail("units: a range within 1..247");
      for (int u = a; u <= b; ++u) out.push_back(u);
    }
  }
  if (out.empty()) n.fail("units: at least one");
  return out;
}

void parse_common(const ConfigNode& n, ModbusLink& l) {
  if (n.has("unit") && n.has("units")) n["units"].fail("give unit or units, not both");
  if (n.has("unit")) l.units = {static_cast<int>(n["unit"].as_integer(0, 255))};
  if (n.has("units")) l.units = parse_units(n["units"]);
  if (n.has("timeout")) {
    l.timing.timeout = n["timeout"].as_duration();
    if (l.timing.timeout < std::chrono::milliseconds(1) || l.timing.timeout > std::chrono::seconds(60))
      n["timeout"].fail("timeout must be between 1 ms and 60 s");
  }
  if (n.has("retries")) l.timing.retries = static_cast<int>(n["retries"].as_integer(0, 10));
  if (n.has("backoff")) {
    auto two = n["backoff"].items();
    if (two.size() != 2) n["backoff"].fail("backoff: [first wait, longest wait]");
    l.timing.backoff_min = two[0].as_duration();
    l.timing.backoff_max = two[1].as_duration();
    if (l.timing.backoff_min <= Duration{0} || l.timing.backoff_max < l.timing.backoff_min ||
        l.timing.backoff_max > std::chrono::minutes(10))
      n["backoff"].fail("backoff: 0 < first wait <= longest wait <= 10 min");
  }
  if (n.has("rewrite")) {
    l.rewrite = n["rewrite"].as_duration();
    if (l.rewrite < Duration{0} || l.rewrite > std::chrono::hours(1)) n["rewrite"].fail("rewrite must be between 0 (every cycle) and 1 h");
  }
  if (n.has("map")) {
    l.map = n["map"].as_string();
    l.map_where = n["map"].where();
  }
}

const LinkRegistration kModbusTcp("modbus-tcp", [](const ConfigNode& n) {
  auto l = std::make_shared<ModbusLink>();
  l->type = "modbus-tcp";
  l->where = n.where();
  n.expect_keys({"type", "host", "port", "unit", "units", "timeout", "retries", "backoff", "rewrite", "map", "proxy", "serve",
                 "client"});
  parse_common(n, *l);
  if (n.has("client")) {
    const std::string c = n["client"].as_string();
    if (c == "libmodbus") l->endpoint.libmodbus_client = true;
    else if (c != "asio") n["client"].fail("client: asio (the loop's own, the default) or libmodbus (on a worker thread)");
  }
  if (n.has("host")) {
    l->endpoint.host = n["host"].as_string();
    if (l->endpoint.host.empty()) n["host"].fail("host: empty");
    l->endpoint.port = static_cast<int>(n.get_number("port", 502));
    if (n.has("port")) l->endpoint.port = static_cast<int>(n["port"].as_integer(1, 65535));
    if (n.has("proxy")) l->proxy = n["proxy"].as_bool();
    if (n.has("serve")) n["serve"].fail("serve: a simulator (no host) is served to an external core; a real device is reached at its host");
  } else {
    if (n.has("port")) n["port"].fail("port without host: a simulator served by zhil takes a free port; give host too for a device");
    if (n.has("proxy")) n["proxy"].fail("proxy: for a real device (with host); a simulator served by zhil takes faults itself");
    if (n.has("serve")) l->serve = static_cast<int>(n["serve"].as_integer(1, 65535));
    l->served_by_zhil = true;
    l->endpoint.host = "127.0.0.1";
  }
  return std::shared_ptr<const LinkSpec>(std::move(l));
});

const LinkRegistration kModbusRtu("modbus-rtu", [](const ConfigNode& n) {
  auto l = std::make_shared<ModbusLink>();
  l->type = "modbus-rtu";
  l->where = n.where();
  n.expect_keys({"type", "device", "baud", "parity", "data_bits", "stop_bits", "unit", "units", "timeout", "retries",
                 "backoff", "rewrite", "map"});
  parse_common(n, *l);
  l->endpoint.rtu = true;
  l->endpoint.device = n.require("device").as_string();
  if (n.has("baud")) l->endpoint.baud = static_cast<int>(n["baud"].as_integer(300, 4000000));
  if (n.has("parity")) {
    const std::string p = n["parity"].as_string();
    if (p != "N" && p != "E" && p != "O") n["parity"].fail("parity: N, E or O");
    l->endpoint.parity = p[0];
  }
  if (n.has("data_bits")) l->endpoint.data_bits = static_cast<int>(n["data_bits"].as_integer(7, 8));
  if (n.has("stop_bits")) l->endpoint.stop_bits = static_cast<int>(n["stop_bits"].as_integer(1, 2));
  return std::shared_ptr<const LinkSpec>(std::move(l));
});

bool is_file(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string resolve_map_path(const ModbusLink& link, const std::string& default_name, const std::string& station_file) {
  const std::string dir = station_file.find('/') == std::string::npos ? "." : station_file.substr(0, station_file.rfind('/'));
  const std::string given = link.map.empty() ? default_name : link.map;
  const bool is_path = given.find('/') != std::string::npos || (given.size() > 5 && given.substr(given.size() - 5) == ".yaml");
  if (is_path) {
    const std::string p = given.front() == '/' ? given : dir + "/" + given;
    if (!is_file(p)) throw ConfigError((link.map_where.empty() ? link.where : link.map_where) + ": register map " + p + " not found");
    return p;
  }
  for (const std::string& base : {dir + "/../modbus/", dir + "/modbus/", std::string(ZHIL_FIXTURES_DIR) + "/modbus/"})
    if (is_file(base + given + ".yaml")) return base + given + ".yaml";
  throw ConfigError((link.map_where.empty() ? link.where : link.map_where) + ": no register map named '" + given +
                    "' (looked in ../modbus/ beside the station and in the project's fixtures/modbus/)");
}

}  // namespace zhil::modbus
