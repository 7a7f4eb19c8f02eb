#include "harness/config/station_config.hpp"

#include <algorithm>
#include <set>

namespace zhil {
namespace {

// "pack{i}" with count: 3 -> pack1, pack2, pack3 (so a 64-pack station is one entry).
std::string expand_name(const std::string& pattern, long i) {
  std::string out = pattern;
  auto pos = out.find("{i}");
  if (pos != std::string::npos) out.replace(pos, 3, std::to_string(i));
  return out;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

PackLimits read_pack_limits(const ConfigNode& n) {
  n.expect_keys({"i_charge_max", "i_discharge_max", "soc_min", "soc_max", "t_max"});
  PackLimits l;
  l.i_charge_max_a = n.require("i_charge_max").as_quantity_in("A", 0, 1e5);
  l.i_discharge_max_a = n.require("i_discharge_max").as_quantity_in("A", 0, 1e5);
  l.soc_min = n.require("soc_min").as_quantity_in("1", 0, 1);
  l.soc_max = n.require("soc_max").as_quantity_in("1", 0, 1);
  l.t_max_c = n.require("t_max").as_quantity_in("degC", -40, 150);
  if (l.i_charge_max_a < 0 || l.i_discharge_max_a < 0) n.fail("current limits must be >= 0");
  if (!(0 <= l.soc_min && l.soc_min < l.soc_max && l.soc_max <= 1))
    n.fail("need 0 <= soc_min < soc_max <= 1");
  return l;
}

InverterLimits read_inverter_limits(const ConfigNode& n) {
  n.expect_keys({"p_discharge_max", "p_charge_max", "s_max", "conversion_efficiency", "no_load_loss"});
  InverterLimits l;
  l.p_discharge_max_w = n.require("p_discharge_max").as_quantity_in("W", 0, 1e9);
  l.p_charge_max_w = n.require("p_charge_max").as_quantity_in("W", 0, 1e9);
  l.s_max_va = n.require("s_max").as_quantity_in("VA", 1, 1e9);
  l.conversion_efficiency = n.get_quantity("conversion_efficiency", "1", l.conversion_efficiency);
  l.no_load_loss_w = n.get_quantity_in("no_load_loss", "W", l.no_load_loss_w, 0, 1e7);
  if (!(l.conversion_efficiency > 0.5 && l.conversion_efficiency <= 1)) n["conversion_efficiency"].fail("must be in (0.5, 1]");
  if (l.no_load_loss_w < 0) n["no_load_loss"].fail("must be >= 0");
  if (l.p_discharge_max_w < 0 || l.p_charge_max_w < 0 || l.s_max_va <= 0)
    n.fail("power limits must be >= 0 and s_max > 0");
  // The envelope's standby-loss margin is the worst a PCS of this rating loses, with room to spare
  // (2 %); more would be a figure copied from a larger machine.
  if (l.no_load_loss_w > 0.02 * std::max(l.p_discharge_max_w, l.s_max_va))
    n["no_load_loss"].fail("no_load_loss is more than 2 % of the inverter's rating: a figure from a larger machine?");
  return l;
}

// deadline, fault_after, safe_state_settle: from `n` over `base`.
DeviceTiming read_timing(const ConfigNode& n, DeviceTiming base) {
  if (n.has("deadline")) {
    base.deadline = n["deadline"].as_duration();
    base.where = n["deadline"].where();
    if (*base.deadline < std::chrono::microseconds(10) || *base.deadline > std::chrono::seconds(30))
      n["deadline"].fail("deadline must be between 10 us and 30 s");
  }
  if (n.has("fault_after")) {
    base.fault_after = n["fault_after"].as_duration();
    if (base.fault_after < Duration{0} || base.fault_after > std::chrono::hours(1))
      n["fault_after"].fail("fault_after must be between 0 and 1 h");
  }
  if (n.has("watchdog")) {
    base.watchdog = n["watchdog"].as_duration();
    base.watchdog_given = true;
    if (base.watchdog < Duration{0} || base.watchdog > std::chrono::hours(1))
      n["watchdog"].fail("watchdog must be between 0 s (none) and 1 h");
  } else if (!base.watchdog_given) {
    base.watchdog = std::max<Duration>(std::chrono::seconds(5), 2 * base.fault_after);
  }
  if (base.watchdog > Duration{0} && base.watchdog <= base.fault_after)
    (n.has("watchdog") ? n["watchdog"] : n["fault_after"])
        .fail("the device watchdog (" + std::to_string(to_seconds(base.watchdog)) +
              " s) must outlast fault_after (" + std::to_string(to_seconds(base.fault_after)) +
              " s): while the harness lives, it declares a device lost first");
  if (n.has("safe_state_settle")) {
    base.safe_state_settle = n["safe_state_settle"].as_duration();
    base.settle_where = n["safe_state_settle"].where();
    if (base.safe_state_settle < Duration{0} || base.safe_state_settle > std::chrono::minutes(10))
      n["safe_state_settle"].fail("safe_state_settle must be between 0 and 10 min");
  }
  return base;
}

}  // namespace

std::vector<const DeviceConfig*> StationConfig::with_role(const std::string& role) const {
  std::vector<const DeviceConfig*> out;
  for (const auto& d : devices)
    if (d.role == role) out.push_back(&d);
  return out;
}

const DeviceConfig* StationConfig::find(const std::string& name) const {
  for (const auto& d : devices)
    if (d.name == name) return &d;
  return nullptr;
}

StationConfig load_station(const std::string& path) {
  constexpr long kMaxDevices = 2048;
  ConfigNode root = ConfigNode::load_file(path);
  root.expect_keys({"station", "description", "cycle", "grid", "core", "devices", "deadline", "fault_after",
                    "safe_state_settle", "watchdog"});
  StationConfig st;
  st.file = path;
  st.name = root.require("station").as_string();
  st.description = root.get_string("description", "");
  if (root.has("cycle")) {
    st.cycle = root["cycle"].as_duration();
    if (st.cycle < std::chrono::milliseconds(1) || st.cycle > std::chrono::seconds(60))
      root["cycle"].fail("cycle must be between 1 ms and 60 s");
  }
  if (ConfigNode g = root["grid"]; g.defined()) {
    g.expect_keys({"nominal_frequency", "nominal_voltage"});
    st.nominal_frequency_hz = g.get_quantity("nominal_frequency", "Hz", 60.0);
    // From a 208 V bench supply to a 345 kV transmission feed.
    st.nominal_voltage_v = g.get_quantity_in("nominal_voltage", "V", 480.0, 100, 500e3);
    if (st.nominal_frequency_hz != 50.0 && st.nominal_frequency_hz != 60.0)
      g["nominal_frequency"].fail("nominal frequency must be 50 Hz or 60 Hz");
  }
  st.timing = read_timing(root, st.timing);
  ConfigNode core = root.require("core");
  core.expect_keys({"name", "params"});
  st.core = core.require("name").as_string();
  st.core_where = core.require("name").where();
  st.core_params = core["params"];

  std::set<std::string> names;
  // Inverters that take "the next N packs" are resolved after every pack is known.
  std::vector<std::pair<std::size_t, long>> packs_each;
  for (const ConfigNode& entry : root.require("devices").items()) {
    entry.expect_keys({"name", "count", "role", "model", "link", "params", "limits", "packs", "packs_each", "deadline",
                       "fault_after", "safe_state_settle", "watchdog"});
    const DeviceTiming timing = read_timing(entry, st.timing);
    const std::shared_ptr<const LinkSpec> link = LinkRegistry::instance().parse(entry["link"]);
    long count = entry.has("count") ? entry["count"].as_integer(1, kMaxDevices) : 1;
    // Bounded as a whole: eight entries of 4,096 would otherwise build a 32,768-device station.
    if (st.devices.size() + static_cast<std::size_t>(count) > static_cast<std::size_t>(kMaxDevices))
      (entry.has("count") ? entry["count"] : entry).fail("a station has at most " + std::to_string(kMaxDevices) +
                                                          " devices in all");
    std::string pattern = entry.require("name").as_string();
    if (count > 1 && pattern.find("{i}") == std::string::npos)
      entry["name"].fail("with count > 1 the name needs '{i}', e.g. pack{i}");
    for (long i = 1; i <= count; ++i) {
      DeviceConfig d;
      d.name = expand_name(pattern, i);
      if (!valid_name(d.name)) entry["name"].fail("device name '" + d.name + "' must be letters, digits, _ or -");
      if (!names.insert(d.name).second) entry["name"].fail("device name '" + d.name + "' used twice");
      d.role = entry.require("role").as_string();
      if (d.role != "pack" && d.role != "inverter" && d.role != "grid" && d.role != "load")
        entry["role"].fail("role must be pack, inverter, grid or load");
      d.model = entry.require("model").as_string();
      d.entry = entry;
      d.params = entry["params"];
      d.link = link;
      d.link_type = link->type;
      d.timing = timing;
      if (d.role == "pack") d.pack_limits = read_pack_limits(entry.require("limits"));
      if (d.role == "inverter") {
        d.inverter_limits = read_inverter_limits(entry.require("limits"));
        if (entry.has("packs") == entry.has("packs_each"))
          entry.fail("an inverter needs exactly one of 'packs' (names) or 'packs_each' (a count)");
        if (entry.has("packs"))
          for (const ConfigNode& p : entry["packs"].items()) d.packs.push_back(p.as_string());
        else
          packs_each.emplace_back(st.devices.size(), entry["packs_each"].as_integer(1, 4096));
      } else if (entry.has("packs") || entry.has("packs_each") ) {
        entry.fail("only inverters have packs");
      }
      st.devices.push_back(std::move(d));
    }
  }
  std::vector<std::string> pack_names;
  for (const auto& d : st.devices)
    if (d.role == "pack") pack_names.push_back(d.name);
  std::size_t next = 0;
  for (auto [index, n] : packs_each) {
    auto& inv = st.devices[index];
    for (long k = 0; k < n; ++k) {
      if (next >= pack_names.size())
        inv.entry["packs_each"].fail("not enough packs for " + inv.name + " to take " + std::to_string(n));
      inv.packs.push_back(pack_names[next++]);
    }
  }
  std::set<std::string> used;
  for (const auto& d : st.devices) {
    for (const auto& p : d.packs) {
      const DeviceConfig* pd = st.find(p);
      if (!pd || pd->role != "pack") d.entry.fail("inverter " + d.name + " names '" + p + "', which is not a pack of this station");
      if (!used.insert(p).second) d.entry.fail("pack " + p + " is on the DC bus of two inverters");
    }
  }
  for (const auto& p : pack_names)
    if (!used.count(p)) root.require("devices").fail("pack " + p + " is not on any inverter's DC bus");
  if (st.with_role("grid").size() != 1) root.require("devices").fail("a station needs exactly one grid device");
  return st;
}

bool is_simulator_model(const std::string& model) {
  const std::string s = "-simulator";
  return model.size() > s.size() && model.compare(model.size() - s.size(), s.size(), s) == 0;
}

}  // namespace zhil
