#include "devices/can/can_link.hpp"

#include "devices/can/can_traffic.hpp"
#include "devices/can/virtual_can_bus.hpp"

#include <sys/stat.h>

#include "devices/can/virtual_can_bus.hpp"
#include "harness/config/config_error.hpp"

namespace zhil::can {

namespace {

bool is_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void parse_common(const ConfigNode& n, CanLink& l) {
  if (n.has("log")) l.log = n["log"].as_bool();
  if (n.has("map")) {
    l.map = n["map"].as_string();
    l.map_where = n["map"].where();
  }
}

const LinkRegistration kVirtual("can-virtual", [](const ConfigNode& n) {
  auto l = std::make_shared<CanLink>();
  l->type = "can-virtual";
  l->where = n.where();
  n.expect_keys({"type", "bus", "serve", "serve_address", "map", "log"});
  parse_common(n, *l);
  if (n.has("bus")) {
    l->bus = n["bus"].as_string();
    if (l->bus.empty() || l->bus.size() > 64) n["bus"].fail("bus: a name of 1 to 64 characters");
  }
  if (n.has("serve")) l->serve = static_cast<int>(n["serve"].as_integer(1, 65535));
  if (n.has("serve_address")) l->serve_address = n["serve_address"].as_string();
  return std::shared_ptr<const LinkSpec>(l);
});

const LinkRegistration kSocketcand("socketcand", [](const ConfigNode& n) {
  auto l = std::make_shared<CanLink>();
  l->type = "socketcand";
  l->where = n.where();
  n.expect_keys({"type", "host", "port", "bus", "backoff", "map", "log"});
  parse_common(n, *l);
  l->socketcand.host = n.require("host").as_string();
  if (n.has("port")) l->socketcand.port = static_cast<int>(n["port"].as_integer(1, 65535));
  if (n.has("bus")) l->socketcand.bus = n["bus"].as_string();
  l->bus = l->socketcand.bus;
  if (n.has("backoff")) {
    auto two = n["backoff"].items();
    if (two.size() != 2) n["backoff"].fail("backoff: [first wait, longest wait]");
    l->socketcand.backoff_min = two[0].as_duration();
    l->socketcand.backoff_max = two[1].as_duration();
    if (l->socketcand.backoff_min <= Duration{0} || l->socketcand.backoff_max < l->socketcand.backoff_min)
      n["backoff"].fail("backoff: 0 < first wait <= longest wait");
  }
  return std::shared_ptr<const LinkSpec>(l);
});

const LinkRegistration kSocketcan("socketcan", [](const ConfigNode& n) {
  auto l = std::make_shared<CanLink>();
  l->type = "socketcan";
  l->where = n.where();
  n.expect_keys({"type", "interface", "bitrate", "map", "log"});
  parse_common(n, *l);
  l->socketcan.interface = n.require("interface").as_string();
  if (l->socketcan.interface.empty() || l->socketcan.interface.size() > 15) n["interface"].fail("interface: a name of 1 to 15 characters");
  if (n.has("bitrate")) l->socketcan.bitrate = static_cast<std::uint32_t>(n["bitrate"].as_integer(10000, 1000000));
  l->bus = l->socketcan.interface;
  return std::shared_ptr<const LinkSpec>(l);
});

}  // namespace

void claim_bus(DeviceBuildContext& c, const CanLink& link, const std::string& device, const ConfigNode& where) {
  const std::string bus = link.type == "can-virtual" ? "virtual:" + virtual_bus_name(link, device)
                          : link.type == "socketcan" ? "socketcan:" + link.socketcan.interface
                                                     : "socketcand:" + link.socketcand.host + ":" + std::to_string(link.socketcand.port) +
                                                           "/" + link.socketcand.bus;
  auto owner = c.bench.part<std::string>("can.bus:" + bus, [&] { return std::make_shared<std::string>(c.device.name); });
  if (*owner != c.device.name)
    where.fail("device " + c.device.name + ": CAN bus " + bus.substr(bus.find(':') + 1) + " is already the bus of " + *owner +
               "; one pack per bus (two packs send the same ids)");
}

std::string virtual_bus_name(const CanLink& link, const std::string& device) {
  if (link.bus.empty()) return "can-" + device;
  std::string b = link.bus;
  for (std::size_t at; (at = b.find("{name}")) != std::string::npos;) b.replace(at, 6, device);
  return b;
}

std::shared_ptr<CanTraffic> bench_traffic(Bench& bench) {
  return bench.part<CanTraffic>("can.traffic", [] { return std::make_shared<CanTraffic>(); });
}

std::shared_ptr<VirtualCanHub> bench_hub(Bench& bench, const std::string& name) {
  return bench.part<VirtualCanHub>("can.hub:" + name,
                                   [&] { return std::make_shared<VirtualCanHub>(name, bench_traffic(bench)); });
}

std::shared_ptr<CanBus> make_bus(const CanLink& link, const std::string& device, Bench& bench) {
  std::shared_ptr<CanBus> bus;
  if (link.type == "socketcand") bus = std::make_shared<SocketcandBus>(link.socketcand);
  else if (link.type == "socketcan") bus = std::make_shared<SocketCanBus>(link.socketcan);
  else bus = std::make_shared<VirtualCanPort>(bench_hub(bench, virtual_bus_name(link, device)));
  bus->set_traffic(bench_traffic(bench));
  bus->set_logged(link.log);
  return bus;
}

std::string resolve_can_map(const CanLink& link, const std::string& default_name, const std::string& station_file) {
  const std::string dir = station_file.find('/') == std::string::npos ? "." : station_file.substr(0, station_file.rfind('/'));
  const std::string given = link.map.empty() ? default_name : link.map;
  const bool is_path = given.find('/') != std::string::npos || (given.size() > 5 && given.substr(given.size() - 5) == ".yaml");
  const std::string where = link.map_where.empty() ? link.where : link.map_where;
  if (is_path) {
    const std::string p = given.front() == '/' ? given : dir + "/" + given;
    if (!is_file(p)) throw ConfigError(where + ": CAN map " + p + " not found");
    return p;
  }
  for (const std::string& base : {dir + "/../can/", dir + "/can/", std::string(ZHIL_FIXTURES_DIR) + "/can/"})
    if (is_file(base + given + ".yaml")) return base + given + ".yaml";
  throw ConfigError(where + ": no CAN map named '" + given + "' (looked in ../can/ beside the station and in the project's fixtures/can/)");
}

}  // namespace zhil::can
