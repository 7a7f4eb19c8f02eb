#include "devices/sim/simulator_params.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>
#include <map>

#include "harness/config/layered_config.hpp"

namespace zhil::sim {
namespace {

std::string resolve(const ConfigNode& where, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return (std::filesystem::path(where.file()).parent_path() / path).lexically_normal().string();
}

}  // namespace

ConfigNode load_fixture(const ConfigNode& params, std::vector<std::string>* files_read) {
  if (!params.defined() || !params.has("file")) return ConfigNode();
  ConfigNode f = params["file"];
  const std::string path = resolve(f, f.as_string());
  if (files_read) files_read->push_back(path);
  // A 64-pack station names the same fixture 64 times: parse it once. Keyed by path, size and
  // modification time, so an edited fixture is read again by a long-lived process.
  struct Cached {
    std::uintmax_t size;
    std::filesystem::file_time_type mtime;
    ConfigNode node;
  };
  static thread_local std::map<std::string, Cached> cache;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  const auto mtime = std::filesystem::last_write_time(path, ec);
  if (!ec) {
    auto it = cache.find(path);
    if (it != cache.end() && it->second.size == size && it->second.mtime == mtime) return it->second.node;
  }
  ConfigNode node = ConfigNode::load_file(path);
  if (!ec) cache[path] = Cached{size, mtime, node};
  return node;
}

PackParams load_pack_params(const ConfigNode& params, std::vector<std::string>* files_read) {
  LayeredConfig c(load_fixture(params, files_read), params);
  c.expect_keys({"file", "serial", "description", "sources", "figures", "modules", "cells_per_module", "capacity",
                 "r_cell", "capacity_spread", "resistance_spread", "coulombic_efficiency", "self_discharge_per_day",
                 "self_discharge_doubling", "thermal_capacity", "thermal_resistance", "aux_power", "ocv_curve",
                 "v_cell_trip_high", "v_cell_trip_low", "v_trip_time", "i_charge_max", "i_discharge_max", "i_trip",
                 "i_trip_time", "soc_taper", "t_derate", "t_zero", "t_shutdown", "strip_interval_cycles",
                 "strip_interval", "strip_overdue", "capacity_fade_per_cycle", "maintenance_discharge", "strip_end_soc",
                 "strip_duration", "initial_soc", "initial_temperature", "ambient", "initial_zn_loading",
                 "initial_time_since_strip", "internal_short_current"});
  PackParams p;
  p.modules = static_cast<int>(c.require("modules").as_integer(1, 1000));
  p.cells_per_module = static_cast<int>(c.require("cells_per_module").as_integer(1, 1000));
  p.capacity_ah = c.require_quantity("capacity", "Ah");
  p.r_cell_ohm = c.require_quantity("r_cell", "ohm");
  p.capacity_spread = c.require_quantity("capacity_spread", "1");
  p.resistance_spread = c.require_quantity("resistance_spread", "1");
  p.coulombic_efficiency = c.require_quantity("coulombic_efficiency", "1");
  p.self_discharge_per_day = c.require_quantity("self_discharge_per_day", "1");
  p.self_discharge_doubling_c = c.require_quantity("self_discharge_doubling", "degC");
  p.thermal_capacity_j_per_k = c.require_quantity("thermal_capacity", "J/K");
  p.thermal_resistance_k_per_w = c.require_quantity("thermal_resistance", "K/W");
  p.aux_power_w = c.require_quantity("aux_power", "W");
  ConfigNode curve = c.require("ocv_curve");
  double last_soc = -1;
  for (const ConfigNode& pt : curve.items()) {
    auto xy = pt.items();
    if (xy.size() != 2) pt.fail("OCV points are [soc, cell volts]");
    double soc = xy[0].as_quantity("1"), v = xy[1].as_quantity("V");
    if (soc <= last_soc || soc < 0 || soc > 1) pt.fail("OCV points need increasing SOC within 0..1");
    if (v <= 0 || v > 5) pt.fail("cell OCV must be between 0 and 5 V");
    last_soc = soc;
    p.ocv_curve.emplace_back(soc, v);
  }
  if (p.ocv_curve.size() < 2) curve.fail("need at least two OCV points");
  p.v_cell_trip_high = c.require_quantity("v_cell_trip_high", "V");
  p.v_cell_trip_low = c.require_quantity("v_cell_trip_low", "V");
  p.v_trip_time_s = c.require_quantity("v_trip_time", "s");
  p.i_charge_max_a = c.require_quantity("i_charge_max", "A");
  p.i_discharge_max_a = c.require_quantity("i_discharge_max", "A");
  p.i_trip_a = c.require_quantity("i_trip", "A");
  p.i_trip_time_s = c.require_quantity("i_trip_time", "s");
  p.soc_taper = c.require_quantity("soc_taper", "1");
  p.t_derate_c = c.require_quantity("t_derate", "degC");
  p.t_zero_c = c.require_quantity("t_zero", "degC");
  p.t_shutdown_c = c.require_quantity("t_shutdown", "degC");
  if (!(p.t_derate_c < p.t_zero_c && p.t_zero_c <= p.t_shutdown_c))
    c.require("t_zero").fail("need t_derate < t_zero <= t_shutdown");
  p.strip_interval_cycles = c.require_quantity("strip_interval_cycles", "1");
  p.strip_interval_s = c.require_quantity("strip_interval", "s");
  p.strip_overdue_s = c.require_quantity("strip_overdue", "s");
  p.capacity_fade_per_cycle = c.require_quantity("capacity_fade_per_cycle", "1");
  p.maintenance_discharge_w = c.require_quantity("maintenance_discharge", "W");
  p.strip_end_soc = c.require_quantity("strip_end_soc", "1");
  p.strip_duration_s = c.require_quantity("strip_duration", "s");
  p.initial_soc = c.require_quantity("initial_soc", "1");
  p.initial_temperature_c = c.require_quantity("initial_temperature", "degC");
  p.ambient_c = c.require_quantity("ambient", "degC");
  p.initial_zn_loading = c.quantity("initial_zn_loading", "1", 0.0);
  p.initial_time_since_strip_s = c.quantity_in("initial_time_since_strip", "s", 0.0, 0, 365 * 86400.0);
  p.internal_short_a = c.require_quantity("internal_short_current", "A");
  if (p.coulombic_efficiency <= 0 || p.coulombic_efficiency > 1) c.require("coulombic_efficiency").fail("must be in (0, 1]");
  for (const auto& [key, v] : {std::pair<const char*, double>{"capacity", p.capacity_ah}, {"r_cell", p.r_cell_ohm},
                               {"self_discharge_doubling", p.self_discharge_doubling_c},
                               {"thermal_capacity", p.thermal_capacity_j_per_k},
                               {"thermal_resistance", p.thermal_resistance_k_per_w}, {"v_trip_time", p.v_trip_time_s},
                               {"i_trip_time", p.i_trip_time_s}, {"strip_duration", p.strip_duration_s},
                               {"strip_interval", p.strip_interval_s}, {"strip_interval_cycles", p.strip_interval_cycles}})
    if (!(v > 0)) c.require(key).fail("must be > 0");
  for (const auto& [key, v] : {std::pair<const char*, double>{"capacity_spread", p.capacity_spread},
                               {"resistance_spread", p.resistance_spread}, {"self_discharge_per_day", p.self_discharge_per_day},
                               {"aux_power", p.aux_power_w}, {"maintenance_discharge", p.maintenance_discharge_w},
                               {"capacity_fade_per_cycle", p.capacity_fade_per_cycle}, {"internal_short_current", p.internal_short_a},
                               {"i_charge_max", p.i_charge_max_a}, {"i_discharge_max", p.i_discharge_max_a}})
    if (!(v >= 0)) c.require(key).fail("must be >= 0");
  if (p.capacity_spread > 0.3 || p.resistance_spread > 0.3) c.require("capacity_spread").fail("spreads above 30 % are not a product");
  for (const auto& [key, v] : {std::pair<const char*, double>{"initial_temperature", p.initial_temperature_c}, {"ambient", p.ambient_c}})
    if (v < -60 || v > 150) c.require(key).fail("temperature outside -60..150 degC");
  if (p.initial_soc < 0 || p.initial_soc > 1) c.require("initial_soc").fail("must be in 0..1");
  if (p.soc_taper <= 0) c.require("soc_taper").fail("must be > 0");
  return p;
}

InverterParams load_inverter_params(const ConfigNode& params, double f_nominal_hz, double v_nominal_v,
                                    std::vector<std::string>* files_read) {
  LayeredConfig c(load_fixture(params, files_read), params);
  c.expect_keys({"file", "serial", "description", "sources", "s_rated", "p_rated", "i_max", "ramp_rate", "efficiency",
                 "no_load_loss", "grid_forming", "ride_through"});
  InverterParams p;
  p.f_nominal_hz = f_nominal_hz;
  p.v_nominal_v = v_nominal_v;
  p.s_rated_va = c.require_quantity("s_rated", "VA");
  p.p_rated_w = c.require_quantity("p_rated", "W");
  p.i_max_a = c.require_quantity("i_max", "A");
  p.ramp_w_per_s = c.require_quantity("ramp_rate", "W/s");
  p.efficiency = c.require_quantity("efficiency", "1");
  p.no_load_loss_w = c.require_quantity("no_load_loss", "W");
  p.grid_forming_capable = c.require("grid_forming").as_bool();
  if (p.efficiency <= 0.5 || p.efficiency > 1) c.require("efficiency").fail("must be in (0.5, 1]");
  if (p.ramp_w_per_s <= 0) c.require("ramp_rate").fail("must be > 0");

  // The ride-through / trip / droop / enter-service settings are a limit set of their own.
  ConfigNode rt_ref = c.require("ride_through");
  const std::string rt_path = resolve(rt_ref, rt_ref.as_string());
  ConfigNode rt = ConfigNode::load_file(rt_path);
  if (files_read) files_read->push_back(rt_path);
  rt.expect_keys({"limit_set", "description", "sources", "nominal_frequency", "trips", "droop", "enter_service"});
  const double rt_f = rt.require("nominal_frequency").as_quantity("Hz");
  if (rt_f != f_nominal_hz)
    rt["nominal_frequency"].fail("limit set is for " + std::to_string(rt_f) + " Hz but the station is " +
                                 std::to_string(f_nominal_hz) + " Hz");
  for (const ConfigNode& t : rt.require("trips").items()) {
    t.expect_keys({"name", "quantity", "above", "below", "clear"});
    TripSetting s;
    s.name = t.require("name").as_string();
    const std::string q = t.require("quantity").as_string();
    if (q != "voltage" && q != "frequency") t["quantity"].fail("quantity is voltage or frequency");
    s.voltage = q == "voltage";
    if (t.has("above") == t.has("below")) t.fail("a trip needs exactly one of above or below");
    s.over = t.has("above");
    s.threshold = (s.over ? t["above"] : t["below"]).as_quantity(s.voltage ? "1" : "Hz");
    s.clear_s = t.require("clear").as_quantity("s");
    p.trips.push_back(s);
  }
  ConfigNode d = rt.require("droop");
  d.expect_keys({"deadband", "droop", "response_time"});
  p.droop_deadband_hz = d.require("deadband").as_quantity("Hz");
  p.droop = d.require("droop").as_quantity("1");
  p.droop_response_s = d.require("response_time").as_quantity("s");
  ConfigNode es = rt.require("enter_service");
  es.expect_keys({"delay", "ramp", "v_min", "v_max", "f_min", "f_max"});
  p.enter_service_delay_s = es.require("delay").as_quantity("s");
  p.enter_service_ramp_s = es.require("ramp").as_quantity("s");
  p.return_v_min_pu = es.require("v_min").as_quantity("1");
  p.return_v_max_pu = es.require("v_max").as_quantity("1");
  p.return_f_min_hz = es.require("f_min").as_quantity("Hz");
  p.return_f_max_hz = es.require("f_max").as_quantity("Hz");
  if (p.droop <= 0) d["droop"].fail("must be > 0");
  if (p.droop_response_s <= 0) d["response_time"].fail("must be > 0");
  if (p.enter_service_ramp_s <= 0) es["ramp"].fail("must be > 0");
  if (p.enter_service_delay_s < 0) es["delay"].fail("must be >= 0");
  for (const auto& [key, v] : {std::pair<const char*, double>{"s_rated", p.s_rated_va}, {"p_rated", p.p_rated_w}, {"i_max", p.i_max_a}})
    if (!(v > 0)) c.require(key).fail("must be > 0");
  if (p.no_load_loss_w < 0) c.require("no_load_loss").fail("must be >= 0");
  // Ratios that hold for any PCS: a station that overrides the rating (a 100 kW bench built from
  // the 750 kVA fixture) must override what scales with it too, or the bench's pack ends up feeding
  // the loss of a far larger machine.
  auto pct = [](double x) {
    std::ostringstream o;
    o << x * 100 << " %";
    return o.str();
  };
  if (p.p_rated_w > p.s_rated_va * (1 + 1e-9))
    c.require("p_rated").fail("p_rated is above s_rated: the real power rating cannot exceed the apparent one");
  if (p.no_load_loss_w > 0.01 * p.p_rated_w)
    c.require("p_rated").fail("the no-load loss (" + c.require("no_load_loss").where() + ") is " +
                              pct(p.no_load_loss_w / p.p_rated_w) +
                              " of p_rated; a PCS loses 0.2-1 % of its rating at no load: set no_load_loss with p_rated");
  const double i_rated = p.s_rated_va / (std::sqrt(3.0) * p.v_nominal_v);
  if (p.i_max_a < i_rated * (1 - 1e-9) || p.i_max_a > 2 * i_rated)
    c.require("i_max").fail("i_max must be 1 to 2 times the rated current s_rated / (sqrt(3) x " +
                            std::to_string(static_cast<int>(p.v_nominal_v)) + " V) = " +
                            std::to_string(static_cast<int>(i_rated)) + " A");
  return p;
}

LoadParams load_load_params(const ConfigNode& params, std::vector<std::string>* files_read) {
  LayeredConfig c(load_fixture(params, files_read), params);
  c.expect_keys({"file", "description", "power", "itic", "backup_hold"});
  LoadParams p;
  p.initial_demand_w = c.require_quantity_in("power", "W", 0, 1e10);
  if (ConfigNode n = c.get("itic"); n.defined()) p.itic = n.as_bool();
  p.backup_hold_s = c.quantity("backup_hold", "s", p.backup_hold_s);
  if (p.initial_demand_w < 0) c.require("power").fail("must be >= 0");
  if (p.backup_hold_s < 0) c.require("backup_hold").fail("must be >= 0");
  return p;
}

}  // namespace zhil::sim
