#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "harness/config/units.hpp"
#include "harness/recording/sha256.hpp"
#include "harness/scenario/expression.hpp"
#include "harness/scenario/scenario.hpp"

namespace zhil {
namespace {

constexpr double kMaxLoad = 1e10;  // 10 GW: above any data centre

Time time_in_run(const ConfigNode& n, Duration duration) {
  Time t = n.as_duration();
  if (t > duration) n.fail("time " + n.as_string() + " is after the end of the scenario");
  return t;
}

void parse_grid(const ConfigNode& g, TimelineEvent& ev, const std::string& dir, std::vector<std::string>* files) {
  g.expect_keys({"device", "outage", "voltage", "frequency"});
  std::string device = g.get_string("device", "");
  bool any = false;
  if (g.has("outage")) {
    ev.steps.push_back({device, "grid", "outage", g["outage"].as_bool() ? 1.0 : 0.0});
    any = true;
  }
  auto stimulus = [&](const char* key, const char* suffix, const char* unit, double lo, double hi) {
    ConfigNode n = g[key];
    if (!n.defined()) return;
    any = true;
    if (n.is_map()) ev.sources.push_back({device, "grid", suffix, parse_profile(n, unit, dir, files, PhysicalRange{lo, hi})});
    else ev.steps.push_back({device, "grid", suffix, n.as_quantity_in(unit, lo, hi)});
  };
  stimulus("voltage", "v_pu_set", "1", 0.0, 2.0);  // 0 pu: zero-voltage ride-through; above 2 pu nothing survives
  stimulus("frequency", "f_set", "Hz", 40.0, 70.0);
  if (!any) g.fail("a grid event needs outage, voltage or frequency");
}

void parse_load(const ConfigNode& l, TimelineEvent& ev, const std::string& dir, std::vector<std::string>* files) {
  std::string device = l.get_string("device", "");
  if (l.has("power")) {
    l.expect_keys({"device", "power"});
    double p = l["power"].as_quantity_in("W", 0, kMaxLoad);
    ev.steps.push_back({device, "load", "p_demand_set", p});
    return;
  }
  if (!l.has("profile") && !l.has("ramp")) l.fail("a load event needs power, ramp or profile");
  if (!l.has("profile")) l.expect_keys({"device", "ramp"});
  ev.sources.push_back({device, "load", "p_demand_set", parse_profile(l, "W", dir, files, PhysicalRange{0, kMaxLoad})});
}

void parse_fault(const ConfigNode& f, TimelineEvent& ev) {
  const std::string kind = f.require("kind").as_string();
  const std::string device = f.require("device").as_string();
  if (kind == "cooling_loss") {
    f.expect_keys({"device", "kind", "factor"});
    double factor = f.get_number("factor", 10.0);
    if (factor < 1 || factor > 1000) f["factor"].fail("factor must be between 1 (cooling as designed) and 1000");
    ev.steps.push_back({device, "", "fault.cooling_loss", factor});
  } else if (kind == "ambient") {
    f.expect_keys({"device", "kind", "temperature"});
    ev.steps.push_back({device, "", "ambient_c", f.require("temperature").as_quantity_in("degC", -60, 80)});
  } else if (kind == "comm_loss" || kind == "trip" || kind == "internal_short") {
    f.expect_keys({"device", "kind"});
    ev.steps.push_back({device, "", "fault." + kind, 1.0});
  } else if (kind.rfind("modbus_", 0) == 0) {
    // Protocol faults of a simulator served over Modbus (devices/modbus/simulated_modbus_device.hpp).
    if (kind == "modbus_delay") {
      f.expect_keys({"device", "kind", "delay"});
      ev.steps.push_back({device, "", "fault.modbus_delay", to_seconds(f.require("delay").as_duration())});
      if (ev.steps.back().value <= 0 || ev.steps.back().value > 60) f["delay"].fail("delay must be between 0 and 60 s");
    } else if (kind == "modbus_exception") {
      f.expect_keys({"device", "kind", "code"});
      ev.steps.push_back({device, "", "fault.modbus_exception", static_cast<double>(f.require("code").as_integer(1, 255))});
    } else if (kind == "modbus_restart") {
      f.expect_keys({"device", "kind", "downtime"});
      const double d = to_seconds(f.require("downtime").as_duration());
      if (d <= 0 || d > 3600) f["downtime"].fail("downtime must be between 0 and 1 h");
      ev.steps.push_back({device, "", "fault.modbus_restart", d});
    } else if (kind == "modbus_no_reply" || kind == "modbus_freeze" || kind == "modbus_corrupt" || kind == "modbus_drop") {
      f.expect_keys({"device", "kind"});
      ev.steps.push_back({device, "", "fault." + kind, 1.0});
    } else {
      f["kind"].fail("unknown fault '" + kind + "' (modbus_delay, modbus_no_reply, modbus_exception, modbus_freeze, "
                     "modbus_corrupt, modbus_drop, modbus_restart)");
    }
  } else if (kind.rfind("can_", 0) == 0) {
    // Bus faults of a simulated pack on a virtual CAN bus (devices/can/simulated_can_device.hpp).
    // The stimulus carries the message id + 1 (0: no fault).
    auto id_step = [&](const char* suffix) {
      // Hex (0x4C1) as CAN ids are written, or decimal.
      const ConfigNode in = f.require("id");
      const std::string text = in.as_string();
      char* end = nullptr;
      const long v = std::strtol(text.c_str(), &end, 0);
      if (text.empty() || *end != '\0' || v < 0 || v > 0x7FF) in.fail("id: an 11-bit CAN id, 0x000 to 0x7FF (e.g. 0x4C1)");
      const double id = static_cast<double>(v);
      ev.steps.push_back({device, "", suffix, id + 1});
    };
    if (kind == "can_drop" || kind == "can_corrupt" || kind == "can_freeze") {
      f.expect_keys({"device", "kind", "id"});
      id_step(("fault." + kind).c_str());
    } else if (kind == "can_delay") {
      f.expect_keys({"device", "kind", "id", "delay"});
      id_step("fault.can_delay");
      const double d = to_seconds(f.require("delay").as_duration());
      if (d <= 0 || d > 60) f["delay"].fail("delay must be between 0 and 60 s");
      ev.steps.push_back({device, "", "fault.can_delay_s", d});
    } else if (kind == "can_bus_off" || kind == "can_babble") {
      f.expect_keys({"device", "kind"});
      ev.steps.push_back({device, "", "fault." + kind, 1.0});
    } else {
      f["kind"].fail("unknown fault '" + kind + "' (can_drop, can_delay, can_corrupt, can_freeze, can_bus_off, can_babble)");
    }
  } else if (kind == "clear") {
    f.expect_keys({"device", "kind"});
    ev.clear_faults_of = device;
  } else {
    f["kind"].fail("unknown fault '" + kind + "' (cooling_loss, ambient, comm_loss, trip, internal_short, modbus_*, can_*, clear)");
  }
}

// The stimuli a `set:` can reach by name, with the unit and physical range the dedicated events
// (grid:, load:, fault:) apply, so that `set` is no way around them.
struct StimulusRange {
  const char* suffix;
  const char* unit;
  double lo, hi;
};
constexpr StimulusRange kStimulusRanges[] = {
    {"f_set", "Hz", 40, 70},          {"v_pu_set", "1", 0, 2},      {"p_demand_set", "W", 0, kMaxLoad},
    {"ambient_c", "degC", -60, 80},   {"outage", "1", 0, 1},        {"fault.cooling_loss", "1", 0, 1000},
};

void parse_set(const ConfigNode& s, TimelineEvent& ev) {
  s.expect_keys({"signal", "value"});
  std::string signal = s.require("signal").as_string();
  auto dot = signal.find('.');
  if (dot == std::string::npos || dot == 0) s["signal"].fail("expected <device>.<signal>");
  const std::string suffix = signal.substr(dot + 1);
  double value = 0;
  const StimulusRange* range = nullptr;
  for (const auto& r : kStimulusRanges)
    if (suffix == r.suffix) range = &r;
  if (range) value = s.require("value").as_quantity_in(range->unit, range->lo, range->hi);
  else value = s.require("value").as_number();
  ev.steps.push_back({signal.substr(0, dot), "", suffix, value});
}

std::pair<Time, std::optional<Time>> window(const ConfigNode& c, Duration duration) {
  Time from = c.has("from") ? time_in_run(c["from"], duration) : Time{0};
  // Without `until` a window runs to the scenario's end: a run stopped before it is INCOMPLETE.
  std::optional<Time> until = duration;
  if (c.has("until")) {
    until = time_in_run(c["until"], duration);
    if (*until <= from) c["until"].fail("'until' must be after 'from'");
  }
  return {from, until};
}

CheckSpec parse_check(const ConfigNode& c, Duration duration) {
  CheckSpec k;
  k.where = c.where();
  // Unknown keys first: a misspelt "alwys" is a typo to name, not a missing kind.
  c.expect_keys({"name", "always", "never", "eventually", "settles", "within", "from", "until"});
  k.name = c.require("name").as_string();
  int kinds = c.has("always") + c.has("never") + c.has("eventually") + c.has("settles");
  if (kinds != 1) c.fail("a check needs exactly one of always, never, eventually, settles");
  std::tie(k.from, k.until) = window(c, duration);
  auto expression = [&](const char* key) {
    ConfigNode e = c[key];
    k.expression = e.as_string();
    if (auto err = check_expression_syntax(k.expression); !err.empty()) e.fail(err);
  };
  if (c.has("always")) {
    c.expect_keys({"name", "always", "from", "until"});
    k.kind = CheckKind::always;
    expression("always");
  } else if (c.has("never")) {
    c.expect_keys({"name", "never", "from", "until"});
    k.kind = CheckKind::never;
    expression("never");
  } else if (c.has("eventually")) {
    c.expect_keys({"name", "eventually", "within", "from"});
    k.kind = CheckKind::eventually;
    expression("eventually");
    k.within = c.require("within").as_duration();
  } else {
    c.expect_keys({"name", "settles", "within", "from", "until"});
    k.kind = CheckKind::settles;
    ConfigNode s = c["settles"];
    s.expect_keys({"signal", "value", "tolerance", "unit"});
    k.signal = s.require("signal").as_string();
    if (s.has("unit")) {
      k.unit = s["unit"].as_string();
      if (!is_known_unit(k.unit)) s["unit"].fail("unknown unit '" + k.unit + "'");
      k.value = s.require("value").as_quantity(k.unit);
      k.tolerance = s.require("tolerance").as_quantity(k.unit);
    } else {
      // The unit as the value spells it ("60 Hz"); checked against the signal's when bound.
      auto q = parse_quantity_any(s.require("value").as_string(), &k.unit);
      if (!q.value) s["value"].fail(q.error);
      k.value = *q.value;
      k.tolerance = s.require("tolerance").as_quantity(k.unit.empty() ? "1" : k.unit);
    }
    if (k.tolerance <= 0) s["tolerance"].fail("tolerance must be > 0");
    k.within = c.require("within").as_duration();
    if (k.until && *k.until < k.from + k.within)
      c["until"].fail("'until' is before the deadline (from + within): the check could never be decided");
  }
  if ((k.kind == CheckKind::eventually || k.kind == CheckKind::settles) && k.from + k.within > duration)
    c["within"].fail("the deadline (from + within) is after the end of the scenario");
  return k;
}

MeasurementSpec parse_measurement(const ConfigNode& m, Duration duration) {
  m.expect_keys({"name", "signal", "aggregate", "unit", "low", "high", "marginal_low", "marginal_high", "from", "until",
                 "ratio"});
  MeasurementSpec s;
  s.where = m.where();
  s.name = m.require("name").as_string();
  s.unit = m.require("unit").as_string();
  if (m.has("ratio")) {
    // ratio: [numerator, denominator], two other measurements of the scenario (checked when all are read)
    const auto items = m["ratio"].items();
    if (items.size() != 2 || m.has("signal") || m.has("aggregate"))
      m["ratio"].fail("ratio is [numerator, denominator]: two measurements' names, and no signal or aggregate");
    s.aggregate = Aggregate::ratio;
    s.ratio_of = items[0].as_string();
    s.ratio_over = items[1].as_string();
    if (s.unit != "%" && s.unit != "1") m["unit"].fail("a ratio's unit is % or 1");
  } else {
    s.signal = m.require("signal").as_string();
  }
  {
    // An integral's unit may be "<unit>*s" (or Wh, J, Ah); anything else is a known SI unit.
    const std::string base = s.unit.size() > 2 && s.unit.compare(s.unit.size() - 2, 2, "*s") == 0
                                 ? s.unit.substr(0, s.unit.size() - 2) : s.unit;
    if (!is_known_unit(base) && !(s.aggregate == Aggregate::ratio && s.unit == "%"))
      m["unit"].fail("unknown unit '" + s.unit + "'");
  }
  const std::string agg = m.get_string("aggregate", s.aggregate == Aggregate::ratio ? "ratio" : "max");
  if (agg == "ratio") s.aggregate = Aggregate::ratio;
  else if (agg == "positive_integral") s.aggregate = Aggregate::positive_integral;
  else if (agg == "negative_integral") s.aggregate = Aggregate::negative_integral;
  else if (agg == "response") s.aggregate = Aggregate::response;
  else if (agg == "max") s.aggregate = Aggregate::max;
  else if (agg == "min") s.aggregate = Aggregate::min;
  else if (agg == "mean") s.aggregate = Aggregate::mean;
  else if (agg == "final") s.aggregate = Aggregate::final;
  else if (agg == "integral") s.aggregate = Aggregate::integral;
  else m["aggregate"].fail("aggregate must be max, min, mean, final, integral, positive_integral, negative_integral or response");
  if (s.aggregate == Aggregate::response && s.unit != "s") m["unit"].fail("a response is in s");
  // A ratio in % takes limits as "70 %" or a bare 70; in 1, as 0.7.
  auto limit = [&](const char* key) {
    if (s.unit != "%") return m[key].as_quantity(s.unit);
    return m[key].as_string().find('%') == std::string::npos ? m[key].as_number() : m[key].as_quantity("1") * 100.0;
  };
  if (m.has("low")) s.low = limit("low");
  if (m.has("high")) s.high = limit("high");
  if (m.has("marginal_low")) s.marginal_low = limit("marginal_low");
  if (m.has("marginal_high")) s.marginal_high = limit("marginal_high");
  if (s.low && s.high && *s.low > *s.high) m.fail("low limit above high limit");
  if ((s.marginal_low && s.low && *s.marginal_low < *s.low) || (s.marginal_high && s.high && *s.marginal_high > *s.high))
    m.fail("a marginal band lies inside the limits (marginal_low >= low, marginal_high <= high)");
  std::tie(s.from, s.until) = window(m, duration);
  return s;
}

DerivedSpec parse_derived(const ConfigNode& d) {
  d.expect_keys({"name", "of", "op", "window"});
  DerivedSpec s;
  s.where = d.where();
  s.name = d.require("name").as_string();
  if (s.name.find('.') == std::string::npos) d["name"].fail("derived signal names are <scope>.<name>, e.g. site.import_ramp");
  s.of = d.require("of").as_string();
  const std::string op = d.require("op").as_string();
  if (op == "mean") s.op = DerivedSpec::Op::mean;
  else if (op == "rate") s.op = DerivedSpec::Op::rate;
  else d["op"].fail("op must be mean or rate");
  s.window = d.require("window").as_duration();
  if (s.window < std::chrono::milliseconds(1) || s.window > std::chrono::hours(24))
    d["window"].fail("window must be between 1 ms and 24 h");
  return s;
}

}  // namespace

const char* to_string(CheckKind k) {
  switch (k) {
    case CheckKind::always: return "always";
    case CheckKind::never: return "never";
    case CheckKind::eventually: return "eventually";
    case CheckKind::settles: return "settles";
  }
  return "?";
}

const char* to_string(Aggregate a) {
  switch (a) {
    case Aggregate::max: return "max";
    case Aggregate::min: return "min";
    case Aggregate::mean: return "mean";
    case Aggregate::final: return "final";
    case Aggregate::integral: return "integral";
    case Aggregate::positive_integral: return "positive_integral";
    case Aggregate::negative_integral: return "negative_integral";
    case Aggregate::response: return "response";
    case Aggregate::ratio: return "ratio";
  }
  return "?";
}

TimelineEvent parse_event_action(const ConfigNode& e, const std::string& directory, std::vector<std::string>* files) {
  TimelineEvent ev;
  ev.where = e.where();
  int actions = e.has("grid") + e.has("load") + e.has("fault") + e.has("set");
  if (actions != 1) e.fail("an event needs exactly one of grid, load, fault, set");
  if (e.has("grid")) parse_grid(e["grid"], ev, directory, files);
  if (e.has("load")) parse_load(e["load"], ev, directory, files);
  if (e.has("fault")) parse_fault(e["fault"], ev);
  if (e.has("set")) parse_set(e["set"], ev);
  return ev;
}

Scenario load_scenario(const std::string& path) {
  ConfigNode root = ConfigNode::load_file(path);
  root.expect_keys({"scenario", "description", "station", "duration", "seed", "cycle", "record_interval",
                    "start_time_of_day", "core_params", "timeline", "checks", "measurements", "derived", "record"});
  Scenario sc;
  sc.file = path;
  sc.directory = std::filesystem::path(path).parent_path().string();
  if (sc.directory.empty()) sc.directory = ".";
  sc.sha256 = sha256_file_hex(path);
  sc.name = root.require("scenario").as_string();
  // The name becomes a folder name in results/: letters, digits, '-' and '_' only.
  if (sc.name.empty() || sc.name.size() > 64 ||
      sc.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos)
    root["scenario"].fail("a scenario name is 1-64 letters, digits, '-' or '_'");
  sc.description = root.get_string("description", "");
  sc.station = root.get_string("station", "simulated");
  sc.station_where = root.has("station") ? root["station"].where() : root.where();
  sc.duration = root.require("duration").as_duration();
  sc.duration_where = root["duration"].where();
  if (sc.duration <= Duration{0}) root["duration"].fail("duration must be > 0");
  if (sc.duration > std::chrono::hours(24 * 366)) root["duration"].fail("duration longer than a year");
  if (root.has("seed")) sc.seed = static_cast<std::uint64_t>(root["seed"].as_integer(0, 1L << 53));
  if (root.has("cycle")) {
    sc.cycle = root["cycle"].as_duration();
    if (*sc.cycle < std::chrono::milliseconds(1) || *sc.cycle > std::chrono::seconds(60))
      root["cycle"].fail("cycle must be between 1 ms and 60 s");
  }
  if (root.has("record_interval")) {
    sc.record_interval = root["record_interval"].as_duration();
    if (*sc.record_interval <= Duration{0}) root["record_interval"].fail("must be > 0");
  }
  if (root.has("start_time_of_day")) sc.start_time_of_day_s = root["start_time_of_day"].as_time_of_day();
  if (ConfigNode rec = root["record"]; rec.defined()) {
    // Glob patterns over signal names; each must match something, checked when the run binds them.
    for (const ConfigNode& p : rec.items()) {
      const std::string glob = p.as_string();
      if (glob.empty() || glob.find_first_of(" ,\t") != std::string::npos)
        p.fail("a record pattern is a signal name or glob, e.g. pack*.soc or grid.*");
      sc.record.push_back({glob, p.where()});
    }
    if (sc.record.empty()) rec.fail("record needs at least one pattern (leave it out to record every signal)");
  }
  sc.core_params = root["core_params"];
  if (sc.core_params.defined()) sc.core_params.expect_map();

  if (ConfigNode tl = root["timeline"]; tl.defined()) {
    for (const ConfigNode& e : tl.items()) {
      e.expect_keys({"at", "grid", "load", "fault", "set", "note"});
      TimelineEvent ev = parse_event_action(e, sc.directory, &sc.input_files);
      ev.at = time_in_run(e.require("at"), sc.duration);
      sc.timeline.push_back(std::move(ev));
    }
    std::stable_sort(sc.timeline.begin(), sc.timeline.end(),
                     [](const TimelineEvent& a, const TimelineEvent& b) { return a.at < b.at; });
  }
  std::vector<std::string> names;
  auto unique_name = [&](const ConfigNode& n, const std::string& name) {
    if (std::find(names.begin(), names.end(), name) != names.end()) n.fail("name '" + name + "' used twice");
    names.push_back(name);
  };
  if (ConfigNode cs = root["checks"]; cs.defined())
    for (const ConfigNode& c : cs.items()) {
      sc.checks.push_back(parse_check(c, sc.duration));
      unique_name(c, sc.checks.back().name);
    }
  if (ConfigNode ms = root["measurements"]; ms.defined())
    for (const ConfigNode& m : ms.items()) {
      sc.measurements.push_back(parse_measurement(m, sc.duration));
      unique_name(m, sc.measurements.back().name);
    }
  // A ratio divides two measurements that are not ratios themselves.
  for (const MeasurementSpec& r : sc.measurements) {
    if (r.aggregate != Aggregate::ratio) continue;
    for (const std::string& n : {r.ratio_of, r.ratio_over}) {
      auto it = std::find_if(sc.measurements.begin(), sc.measurements.end(),
                             [&](const MeasurementSpec& m) { return m.name == n; });
      if (it == sc.measurements.end() || it->aggregate == Aggregate::ratio)
        throw ConfigError(r.where + ": measurement '" + r.name + "': ratio of '" + n +
                          "', which is not a measurement of this scenario (or is a ratio itself)");
    }
  }
  if (ConfigNode ds = root["derived"]; ds.defined())
    for (const ConfigNode& d : ds.items()) sc.derived.push_back(parse_derived(d));
  if (sc.checks.empty() && sc.measurements.empty())
    root.fail("a scenario needs at least one check or measurement, or it cannot fail");
  return sc;
}

}  // namespace zhil
