#include "devices/can/can_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "harness/config/config_error.hpp"
#include "harness/config/config_node.hpp"

namespace zhil::can {

double CanMapEntry::lo() const {
  if (!dbc_signal || !dbc_signal->has_range()) return -INFINITY;
  return std::min(dbc_signal->min * factor, dbc_signal->max * factor);
}
double CanMapEntry::hi() const {
  if (!dbc_signal || !dbc_signal->has_range()) return INFINITY;
  return std::max(dbc_signal->min * factor, dbc_signal->max * factor);
}

double CanMap::frames_per_second(Duration command_cycle) const {
  double fps = 0;
  for (const DbcMessage* m : read_messages) {
    std::vector<int> sels;
    for (const CanMapEntry& e : entries)
      if (e.message == m && e.dbc_signal->mux == DbcSignal::Mux::multiplexed &&
          std::find(sels.begin(), sels.end(), e.dbc_signal->mux_value) == sels.end())
        sels.push_back(e.dbc_signal->mux_value);
    const double cycle = to_seconds(m->cycle > Duration{0} ? m->cycle : std::chrono::seconds(1));
    fps += static_cast<double>(std::max<std::size_t>(1, sels.size())) / cycle;
  }
  if (command_cycle > Duration{0}) fps += static_cast<double>(command_messages.size()) / to_seconds(command_cycle);
  return fps;
}

Duration CanMap::timeout_of(const DbcMessage& m) {
  if (m.timeout > Duration{0}) return m.timeout;
  if (m.cycle > Duration{0}) return 3 * m.cycle;
  return std::chrono::seconds(5);
}

namespace {

std::string replace_unit(std::string s, int module) {
  char n[16];
  std::snprintf(n, sizeof n, "%02d", module);
  for (std::size_t at; (at = s.find("{unit}")) != std::string::npos;) s.replace(at, 6, n);
  return s;
}

}  // namespace

CanMap load_can_map(const std::string& path, int modules) {
  const ConfigNode root = ConfigNode::load_file(path);
  root.expect_map();
  root.expect_keys({"map", "description", "dbc", "signals"});
  CanMap map;
  map.file = path;
  map.name = root.require("map").as_string();
  if (root.has("description")) map.description = root["description"].as_string();
  const ConfigNode dn = root.require("dbc");
  std::string dbc_path = dn.as_string();
  if (!dbc_path.empty() && dbc_path[0] != '/') {
    const auto slash = path.rfind('/');
    dbc_path = (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + dbc_path;
  }
  try {
    map.dbc = cached_dbc(dbc_path);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    dn.fail(e.what());
  }
  const ConfigNode list = root.require("signals");
  if (!list.is_sequence()) list.fail("signals: a list of entries");
  for (const ConfigNode& n : list.items()) {
    n.expect_map();
    n.expect_keys({"signal", "reads", "writes", "limit", "init", "counter", "heartbeat", "identity", "unit", "factor", "safe",
                   "safe_when", "required", "clamp_to"});
    CanMapEntry e;
    e.where = n.where();
    const ConfigNode sn = n.require("signal");
    const std::string tmpl = sn.as_string();
    int roles = 0;
    for (auto [key, role] : {std::pair{"reads", CanRole::reads}, {"writes", CanRole::writes}, {"limit", CanRole::limit}}) {
      if (!n.has(key)) continue;
      ++roles;
      e.role = role;
      e.signal = n[key].as_string();
      if (e.signal.empty()) n[key].fail("a signal name is needed");
    }
    if (n.has("init")) {
      ++roles;
      e.role = CanRole::init;
      e.init_value = n["init"].as_number();
    }
    if (n.has("counter")) {
      ++roles;
      e.role = CanRole::counter;
      if (!n["counter"].as_bool()) n["counter"].fail("counter: true, or leave it out");
    }
    if (n.has("heartbeat")) {
      ++roles;
      e.role = CanRole::heartbeat;
      e.heartbeat = n["heartbeat"].as_duration();
      if (e.heartbeat < std::chrono::milliseconds(100) || e.heartbeat > std::chrono::hours(1))
        n["heartbeat"].fail("heartbeat: how long the counter may stay unchanged, 100 ms to 1 h");
    }
    if (n.has("identity")) {
      ++roles;
      e.role = CanRole::identity;
      const ConfigNode in = n["identity"];
      if (in.is_scalar() && in.as_string() == "text") e.text = true;
      else if (!in.as_bool()) in.fail("identity: true, or text");
    }
    if (roles != 1) n.fail("an entry either reads, writes, is a limit, a constant (init), a counter, a heartbeat or identity: exactly one");
    if (n.has("unit")) e.unit = n["unit"].as_string();
    if (n.has("factor")) {
      e.factor = n["factor"].as_number();
      if (e.factor == 0 || !std::isfinite(e.factor)) n["factor"].fail("factor must be a non-zero number");
    }
    if (n.has("safe")) {
      e.has_safe = true;
      e.safe = n["safe"].as_number();
      if (e.role != CanRole::writes && e.role != CanRole::limit && e.role != CanRole::init)
        n["safe"].fail("safe: only a command, a limit or a constant has a safe value");
    }
    if (n.has("safe_when")) {
      auto two = n["safe_when"].items();
      if (two.size() != 2) n["safe_when"].fail("safe_when: expected [low, high]");
      e.has_safe_when = true;
      e.safe_lo = two[0].as_number();
      e.safe_hi = two[1].as_number();
      if (e.role != CanRole::reads) n["safe_when"].fail("safe_when: only a reading is checked in the safe state");
    }
    if (n.has("required")) e.required = n["required"].as_bool();
    if (n.has("clamp_to")) {
      e.clamp_to = n["clamp_to"].as_string();
      if (e.role != CanRole::reads || e.clamp_to.empty()) n["clamp_to"].fail("clamp_to: a limit's name, on a reading");
    }
    const bool per_module = tmpl.find("{unit}") != std::string::npos;
    if (per_module != (e.signal.find("{unit}") != std::string::npos) && (e.role == CanRole::reads || !e.signal.empty()))
      n.fail("a per-module entry has {unit} in both its DBC signal and its zhil signal (\"M{unit}_Voltage\" -> \"m{unit}.v\")");
    const int copies = per_module ? modules : 1;
    for (int m = 1; m <= copies; ++m) {
      CanMapEntry x = e;
      x.dotted = per_module ? replace_unit(tmpl, m) : tmpl;
      if (per_module) {
        x.signal = replace_unit(e.signal, m);
        x.module = m;
      }
      auto [msg, sig] = map.dbc->find_signal(x.dotted);
      if (!msg) sn.fail("no message " + x.dotted.substr(0, x.dotted.find('.')) + " in " + map.dbc->file);
      if (!sig) sn.fail("no signal " + x.dotted + " in " + map.dbc->file + (per_module ? " (module " + std::to_string(m) + ")" : ""));
      x.message = msg;
      x.dbc_signal = sig;
      if (x.role == CanRole::writes && !sig->has_range() && !(sig->length == 1))
        n.fail(x.dotted + ": a command needs a range in the DBC ([min|max])");
      if (x.role == CanRole::identity && x.text && (sig->start_bit % 8 != 0 || sig->length % 8 != 0 || !sig->little_endian))
        n.fail(x.dotted + ": identity: text needs whole bytes in Intel order");
      map.entries.push_back(std::move(x));
    }
  }
  for (std::size_t k = 0; k < map.entries.size(); ++k) {
    const CanMapEntry& e = map.entries[k];
    map.entries_of[e.message].push_back(k);
    if (e.role == CanRole::reads && e.required &&
        std::find(map.required_messages.begin(), map.required_messages.end(), e.message) == map.required_messages.end())
      map.required_messages.push_back(e.message);
  }
  // Which messages are read and which are sent; a message is one or the other.
  for (const CanMapEntry& e : map.entries) {
    const bool command = e.role == CanRole::writes || e.role == CanRole::limit || e.role == CanRole::init || e.role == CanRole::counter;
    auto& into = command ? map.command_messages : map.read_messages;
    auto& other = command ? map.read_messages : map.command_messages;
    if (std::find(other.begin(), other.end(), e.message) != other.end())
      throw ConfigError(e.where + ": message " + e.message->name + " is both read and sent; a message goes one way");
    if (std::find(into.begin(), into.end(), e.message) == into.end()) into.push_back(e.message);
  }
  return map;
}

}  // namespace zhil::can
