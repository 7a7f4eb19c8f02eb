#include "devices/modbus/register_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>

#include "harness/config/config_error.hpp"
#include "harness/config/config_node.hpp"

namespace zhil::modbus {

const char* to_string(Gather g) {
  switch (g) {
    case Gather::first: return "first";
    case Gather::sum: return "sum";
    case Gather::mean: return "mean";
    case Gather::min: return "min";
    case Gather::max: return "max";
    case Gather::any: return "any";
  }
  return "?";
}

std::string per_unit_signal(const std::string& tmpl, int unit) {
  std::string out = tmpl;
  const auto at = out.find("{unit}");
  if (at == std::string::npos) return out;
  char b[16];
  std::snprintf(b, sizeof b, "%02d", unit);
  out.replace(at, 6, b);
  return out;
}

const MapEntry* RegisterMap::find_signal(const std::string& suffix) const {
  for (const MapEntry& e : entries)
    if (e.signal == suffix) return &e;
  return nullptr;
}

namespace {

int parse_address(const ConfigNode& n) {
  const std::string s = n.as_string();
  std::size_t used = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(s, &used, 0);  // 0x9011 or 36881
  } catch (const std::exception&) {
    n.fail("expected a register address (0 to 65535, decimal or 0x hex), got '" + s + "'");
  }
  if (used != s.size() || v > 65535) n.fail("expected a register address (0 to 65535, decimal or 0x hex), got '" + s + "'");
  return static_cast<int>(v);
}

Gather parse_gather(const ConfigNode& n) {
  const std::string s = n.as_string();
  for (Gather g : {Gather::first, Gather::sum, Gather::mean, Gather::min, Gather::max, Gather::any})
    if (s == to_string(g)) return g;
  n.fail("unknown gather '" + s + "' (first, sum, mean, min, max, any)");
}

void parse_common(const ConfigNode& n, MapEntry& e) {
  int roles = 0;
  for (auto [key, role] : {std::pair{"reads", EntryRole::reads}, {"writes", EntryRole::writes},
                           {"limit", EntryRole::limit}}) {
    if (!n.has(key)) continue;
    ++roles;
    e.role = role;
    e.signal = n[key].as_string();
    if (e.signal.empty()) n[key].fail("a signal name is needed");
  }
  if (n.has("init")) {
    ++roles;
    e.role = EntryRole::init;
    e.init_value = n["init"].as_number();
  }
  if (n.has("watchdog")) {
    // `watchdog: timer` takes the station's watchdog (whole seconds); a number is written with it.
    ++roles;
    e.role = EntryRole::watchdog;
    const ConfigNode w = n["watchdog"];
    if (w.is_scalar() && w.as_string() == "timer") e.watchdog_timer = true;
    else e.init_value = w.as_number();
  }
  if (roles > 1)
    n.fail("an entry either reads, writes, is a limit, is written once (init) or arms the watchdog, not several");
  if (n.has("per_unit")) e.per_unit = n["per_unit"].as_string();
  if (n.has("gather")) e.gather = parse_gather(n["gather"]);
  if (n.has("factor")) {
    e.factor = n["factor"].as_number();
    if (e.factor == 0) n["factor"].fail("factor must not be 0");
  }
  if (n.has("bit")) {
    e.bit = static_cast<int>(n["bit"].as_integer(0, 63));
    if (e.bit >= 16 * e.format.words && e.format.type != RegisterType::string)
      n["bit"].fail("bit " + std::to_string(e.bit) + " is outside the register");
  }
  if (n.has("values")) {
    // [[signal value, raw value], ...]; a signal value may be listed with several raw values (a
    // reading), a raw value once.
    ConfigNode v = n["values"];
    if (!v.is_sequence()) v.fail("values: expected a list of [signal value, raw value] pairs");
    for (const ConfigNode& pair : v.items()) {
      auto two = pair.items();
      if (two.size() != 2) pair.fail("values: expected [signal value, raw value]");
      e.values.push_back({two[0].as_number(), two[1].as_number()});
    }
    if (e.values.empty()) v.fail("values: empty");
  }
  if (n.has("other")) e.other = n["other"].as_number();
  if (n.has("unit")) e.unit = n["unit"].as_string();
  if (n.has("range")) {
    ConfigNode r = n["range"];
    auto items = r.items();
    if (items.size() != 2) r.fail("range: expected [low, high]");
    e.lo = items[0].as_number();
    e.hi = items[1].as_number();
    if (!(e.lo <= e.hi)) r.fail("range: low must not be above high");
  }
  if (n.has("required")) e.required = n["required"].as_bool();
  if (n.has("identity")) e.identity = n["identity"].as_bool();
  if (n.has("heartbeat")) {
    e.heartbeat = n["heartbeat"].as_duration();
    if (e.heartbeat < std::chrono::seconds(1) || e.heartbeat > std::chrono::hours(1))
      n["heartbeat"].fail("heartbeat: how long the counter may stay unchanged, 1 s to 1 h");
    if (e.role != EntryRole::info) n["heartbeat"].fail("heartbeat: an entry that feeds no signal");
  }
  if (n.has("safe")) {
    e.has_safe = true;
    e.safe = n["safe"].as_number();
  }
  if (n.has("safe_when")) {
    auto items = n["safe_when"].items();
    if (items.size() != 2) n["safe_when"].fail("safe_when: expected [low, high]");
    e.has_safe_when = true;
    e.safe_lo = items[0].as_number();
    e.safe_hi = items[1].as_number();
  }
  if (n.has("write")) {
    const std::string w = n["write"].as_string();
    if (w == "on_change") e.on_change = true;
    else if (w != "every_cycle") n["write"].fail("write: every_cycle or on_change");
  }
  if (n.has("access")) {
    const std::string a = n["access"].as_string();
    if (a == "rw") e.writable = true;
    else if (a == "r") e.writable = false;
    else n["access"].fail("access: r or rw");
  }
  if (e.has_safe && e.role != EntryRole::writes && e.role != EntryRole::limit)
    n["safe"].fail("safe: only a command (writes) or a limit has a safe value");
  if (e.has_safe_when && e.role != EntryRole::reads) n["safe_when"].fail("safe_when: only a reading is checked in the safe state");
  if (e.written() && !e.writable)
    n.fail(e.name + " is read-only (access r): it cannot be written");
  if (e.role == EntryRole::writes && (!std::isfinite(e.lo) || !std::isfinite(e.hi)) && e.values.empty())
    n.fail(e.name + ": a command register needs a finite range: [low, high] (or values)");
}

const char* const kEntryKeys[] = {"name",  "address", "type", "words",    "scale", "scale_point", "factor",
                                  "reads", "writes",  "limit", "init",    "per_unit", "gather",   "bit",
                                  "values", "unit",   "access", "range",  "required", "write", "point",
                                  "percent_of", "size", "safe", "safe_when", "identity", "other", "heartbeat",
                                  "watchdog"};

MapEntry parse_register(const ConfigNode& n) {
  n.expect_map();
  n.expect_keys(std::vector<std::string>(std::begin(kEntryKeys), std::end(kEntryKeys)));
  MapEntry e;
  e.where = n.where();
  e.name = n.require("name").as_string();
  e.address = parse_address(n.require("address"));
  const ConfigNode t = n.require("type");
  int words = 0;
  if (!parse_register_type(t.as_string(), &e.format.type, &words)) t.fail("unknown register type '" + t.as_string() + "'");
  if (e.format.type == RegisterType::string) {
    e.format.words = static_cast<int>(n.require("size").as_integer(1, 125));
  } else {
    e.format.words = words;
  }
  e.format.not_implemented_patterns = false;  // a plain map's values are what they are
  if (n.has("words")) {
    const std::string w = n["words"].as_string();
    if (w == "little") e.format.order = WordOrder::little;
    else if (w != "big") n["words"].fail("words: big (most significant first) or little");
  }
  if (e.address + e.format.words > 65536) n["address"].fail("the register runs past address 65535");
  if (n.has("scale")) {
    e.scale = n["scale"].as_number();
    if (e.scale == 0) n["scale"].fail("scale must not be 0");
  }
  if (n.has("scale_point")) e.scale_point = n["scale_point"].as_string();
  parse_common(n, e);
  return e;
}

MapEntry parse_point(const ConfigNode& n, const SunSpecModelSet& models) {
  n.expect_map();
  n.expect_keys(std::vector<std::string>(std::begin(kEntryKeys), std::end(kEntryKeys)));
  for (const char* k : {"address", "type", "words", "scale", "scale_point", "access", "size"})
    if (n.has(k)) n[k].fail(std::string(k) + ": a SunSpec point's " + k + " comes from its model definition");
  MapEntry e;
  e.where = n.where();
  const ConfigNode pn = n.require("point");
  e.name = pn.as_string();
  const auto dot = e.name.find('.');
  if (dot == std::string::npos) pn.fail("expected MODEL.POINT, e.g. 704.WSet");
  try {
    e.model = std::stoi(e.name.substr(0, dot));
  } catch (const std::exception&) {
    pn.fail("expected MODEL.POINT, e.g. 704.WSet");
  }
  e.point = e.name.substr(dot + 1);
  // Ctl[1].KOf: instance 1 of a repeating group.
  if (auto lb = e.point.find('['); lb != std::string::npos) {
    auto rb = e.point.find(']', lb);
    if (rb == std::string::npos || rb + 1 >= e.point.size() || e.point[rb + 1] != '.') pn.fail("expected GROUP[k].POINT");
    e.instance = std::atoi(e.point.substr(lb + 1, rb - lb - 1).c_str());
    e.point = e.point.substr(0, lb) + e.point.substr(rb + 1);
  }
  const SunSpecModel* m = models.find(e.model);
  if (!m) pn.fail("no definition of SunSpec model " + std::to_string(e.model) + " in the map's model folder");
  const SunSpecPoint* p = m->find(e.point);
  if (!p) pn.fail("SunSpec model " + std::to_string(e.model) + " (" + m->name + ") has no point " + e.point);
  if (e.instance > 0 && p->group_size == 0) pn.fail(e.point + " is not in a repeating group");
  e.format = p->format;
  e.scale_point = p->sf;
  e.writable = p->writable;
  if (p->units == "Pct" || p->units == "%WHRtg" || p->units == "%") e.unit = "%";
  else e.unit = p->units;
  if (n.has("percent_of")) e.percent_of = n["percent_of"].as_string();
  if (n.has("access")) n["access"].fail("access comes from the model definition");
  parse_common(n, e);
  return e;
}

}  // namespace

RegisterMap load_register_map(const std::string& path) {
  ConfigNode root = ConfigNode::load_file(path);
  root.expect_map();
  root.expect_keys({"map", "description", "source", "sunspec", "units", "blocks", "registers", "points", "single_writes"});
  RegisterMap map;
  map.file = path;
  map.name = root.require("map").as_string();
  map.description = root.get_string("description", "");
  if (root.has("single_writes")) map.single_writes = root["single_writes"].as_bool();
  if (root.has("units")) {
    const std::string u = root["units"].as_string();
    if (u == "per-module") map.units_per_module = true;
    else if (u != "one") root["units"].fail("units: one (the device is one unit id) or per-module");
  }
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (root.has("sunspec")) {
    map.sunspec = true;
    ConfigNode s = root["sunspec"];
    s.expect_keys({"models", "require"});
    const std::string models = s.require("models").as_string();
    map.models_dir = !models.empty() && models.front() == '/' ? models : dir + "/" + models;
    try {
      map.models = SunSpecModelSet::cached(map.models_dir);
    } catch (const std::exception& e) {
      s["models"].fail(e.what());
    }
    for (const ConfigNode& id : s.require("require").items()) {
      const int m = static_cast<int>(id.as_integer(1, 65534));
      if (!map.models->find(m)) id.fail("no definition of SunSpec model " + std::to_string(m));
      map.required_models.push_back(m);
    }
    if (root.has("registers")) root["registers"].fail("a SunSpec map lists points:, not registers:");
    for (const ConfigNode& n : root.require("points").items()) map.entries.push_back(parse_point(n, *map.models));
  } else {
    if (root.has("points")) root["points"].fail("points: are SunSpec points; this map has no sunspec: section");
    for (const ConfigNode& n : root.require("registers").items()) map.entries.push_back(parse_register(n));
    if (root.has("blocks")) {
      for (const ConfigNode& b : root["blocks"].items()) {
        auto ends = b.items();
        if (ends.size() != 2) b.fail("a block is [first, last]");
        ReadableBlock blk{parse_address(ends[0]), parse_address(ends[1])};
        if (blk.last < blk.first) b.fail("a block's last address is before its first");
        map.blocks.push_back(blk);
      }
    }
  }
  // A watchdog's values without its timer would arm nothing.
  const auto is_timer = [](const MapEntry& e) { return e.role == EntryRole::watchdog && e.watchdog_timer; };
  const auto is_watchdog = [](const MapEntry& e) { return e.role == EntryRole::watchdog; };
  if (std::any_of(map.entries.begin(), map.entries.end(), is_watchdog) &&
      std::none_of(map.entries.begin(), map.entries.end(), is_timer))
    throw ConfigError(std::find_if(map.entries.begin(), map.entries.end(), is_watchdog)->where +
                      ": watchdog: the map has watchdog values but no `watchdog: timer` entry");
  // Cross-references: scale points and percent_of name other entries.
  for (MapEntry& e : map.entries) {
    if (e.has_safe)
      if (auto st = check_write(e, e.safe); !st) throw ConfigError(e.where + ": safe: " + st.message());
    if (e.role == EntryRole::init || (e.role == EntryRole::watchdog && !e.watchdog_timer))
      if (auto st = check_write(e, e.init_value); !st)
        throw ConfigError(e.where + (e.role == EntryRole::init ? ": init: " : ": watchdog: ") + st.message());
    if (!e.percent_of.empty()) {
      for (std::size_t k = 0; k < map.entries.size(); ++k)
        if (map.entries[k].name == e.percent_of) e.percent_of_entry = static_cast<int>(k);
      if (e.percent_of_entry < 0) throw ConfigError(e.where + ": percent_of " + e.percent_of + " is not an entry of this map");
    }
    if (!map.sunspec && !e.scale_point.empty()) {
      const MapEntry* sf = nullptr;
      for (const MapEntry& o : map.entries)
        if (o.name == e.scale_point) sf = &o;
      if (!sf) throw ConfigError(e.where + ": scale_point " + e.scale_point + " is not an entry of this map");
      e.scale_address = sf->address;
    }
  }
  if (map.entries.empty()) root.fail("the map has no entries");
  return map;
}

std::shared_ptr<const RegisterMap> cached_register_map(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const RegisterMap>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[path];
  if (!slot) slot = std::make_shared<const RegisterMap>(load_register_map(path));
  return slot;
}

namespace {

double value_of_raw(const MapEntry& e, double raw, double sf_power, double percent_base) {
  double v = raw * e.scale * sf_power * e.factor;
  if (!e.percent_of.empty()) v = v / 100.0 * percent_base;
  return v;
}

}  // namespace

Status decode_entry(const MapEntry& e, const RegisterWindow& w, double sf_power, double percent_base, Decoded* out) {
  out->present = false;
  if (e.format.type == RegisterType::string || !w.holds(e.address, e.format.words)) return Status::ok();
  const std::span<const std::uint16_t> span = w.at(e.address, e.format.words);
  if (e.bit >= 0) {
    RegisterFormat f = e.format;
    f.not_implemented_patterns = false;
    const auto raw = decode_raw(f, span);
    out->present = true;
    out->value = static_cast<double>((static_cast<std::uint64_t>(*raw) >> e.bit) & 1u);
    return Status::ok();
  }
  const auto raw = decode_raw(e.format, span);
  if (!raw) return Status::ok();
  if (!e.values.empty()) {
    for (const auto& [sv, rv] : e.values)
      if (rv == *raw) {
        out->present = true;
        out->value = sv;
        return Status::ok();
      }
    if (std::isnan(e.other))
      return Status::error(e.name + ": value " + std::to_string(static_cast<long long>(*raw)) + " is not one the map lists");
    out->present = true;
    out->value = e.other;
    return Status::ok();
  }
  if (!std::isfinite(sf_power)) return Status::ok();  // its scale factor is not implemented
  const double v = value_of_raw(e, *raw, sf_power, percent_base);
  if (!std::isfinite(v)) return Status::ok();
  if (v < e.lo || v > e.hi)
    return Status::error(e.name + ": value " + std::to_string(v) + (e.unit.empty() ? "" : " " + e.unit) +
                         " is outside its valid range [" + std::to_string(e.lo) + ", " + std::to_string(e.hi) + "]");
  out->present = true;
  out->value = v;
  return Status::ok();
}

double sf_power_of(const MapEntry& e, const RegisterWindow& w) {
  if (e.scale_address < 0) return 1.0;
  if (!w.holds(e.scale_address, 1)) return std::numeric_limits<double>::quiet_NaN();
  RegisterFormat f{RegisterType::sunssf, 1, WordOrder::big, true};
  const auto sf = decode_raw(f, w.at(e.scale_address, 1));
  if (!sf || *sf < -10 || *sf > 10) return std::numeric_limits<double>::quiet_NaN();
  return std::pow(10.0, *sf);
}

double percent_base_of(const RegisterMap& map, const MapEntry& e, const RegisterWindow& w) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (e.percent_of_entry < 0) return nan;
  const MapEntry& b = map.entries[static_cast<std::size_t>(e.percent_of_entry)];
  Decoded d;
  if (!b.resolved() || !decode_entry(b, w, sf_power_of(b, w), nan, &d) || !d.present) return nan;
  return d.value;
}

Status check_write(const MapEntry& e, double value) {
  if (!e.writable) return Status::error("refused to write " + e.name + ": the map declares it read-only");
  if (!std::isfinite(value)) return Status::error("refused to write " + e.name + ": value is not a finite number");
  if (!e.values.empty()) {
    for (const auto& [sv, rv] : e.values)
      if (sv == value) return Status::ok();
    return Status::error("refused to write " + e.name + " = " + std::to_string(value) + ": not a value the map lists");
  }
  if (value < e.lo || value > e.hi)
    return Status::error("refused to write " + e.name + " = " + std::to_string(value) + (e.unit.empty() ? "" : " " + e.unit) +
                         ": outside its valid range [" + std::to_string(e.lo) + ", " + std::to_string(e.hi) + "]");
  return Status::ok();
}

Status encode_value(const MapEntry& e, double value, double sf_power, double percent_base, RegisterWindow& w) {
  if (!w.holds(e.address, e.format.words)) return Status::error("refused to write " + e.name + ": not in the device's registers");
  if (!std::isfinite(value)) return Status::error("refused to write " + e.name + ": value is not a finite number");
  if (e.bit >= 0) return Status::error("refused to write " + e.name + ": a single bit of a register is not written");
  double raw = 0;
  if (!e.values.empty()) {
    for (auto it = e.values.rbegin(); it != e.values.rend(); ++it)
      if (it->first == value) raw = it->second;  // the first pair that lists the value
    if (raw == 0 && std::none_of(e.values.begin(), e.values.end(), [&](const auto& p) { return p.first == value; }))
      return Status::error("refused to write " + e.name + " = " + std::to_string(value) + ": not a value the map lists");
  } else {
    if (!std::isfinite(sf_power) || sf_power == 0)
      return Status::error("refused to write " + e.name + ": its scale factor is not implemented by the device");
    double v = value;
    if (!e.percent_of.empty()) {
      if (!(percent_base > 0)) return Status::error("refused to write " + e.name + ": " + e.percent_of + " is not known");
      v = v * 100.0 / percent_base;
    }
    raw = v / (e.scale * sf_power * e.factor);
  }
  if (auto s = encode_raw(e.format, raw, w.at(e.address, e.format.words)); !s)
    return Status::error("refused to write " + e.name + " = " + std::to_string(value) + ": " + s.message());
  return Status::ok();
}

Status encode_entry(const MapEntry& e, double value, double sf_power, double percent_base, RegisterWindow& w) {
  if (auto s = check_write(e, value); !s) return s;
  return encode_value(e, value, sf_power, percent_base, w);
}

}  // namespace zhil::modbus
