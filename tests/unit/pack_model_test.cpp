// Pack physics against the fixture's published figures: energy balance, efficiencies, protections
// at their thresholds, derating, strip cycle, spread and per-module faults.
#include <gtest/gtest.h>

#include <cmath>

#include "devices/sim/pack_model.hpp"
#include "devices/sim/simulator_params.hpp"
#include "harness/config/config_node.hpp"
#include "test_support.hpp"

using namespace zhil;
using namespace zhil::sim;

namespace {

ConfigNode fixture_params() {
  // As a station entry names it.
  static const std::string dir = test::scratch_dir("packfx");
  static const std::string path =
      test::write_file(dir, "entry.yaml", "file: " + test::source_path("fixtures/packs/zh-160kwh-16s.yaml") + "\n");
  return ConfigNode::load_file(path);
}

PackParams fixture() { return load_pack_params(fixture_params()); }

double figure(const char* name, const char* bound) {
  ConfigNode f = load_fixture(fixture_params());
  return f.require("figures").require(name).require(bound).as_number();
}

// Run at constant current (+ charge) until a module SOC bound; returns energy at the terminals.
double run_until(PackModel& p, double current, double soc_stop, double dt = 1.0) {
  double wh = 0;
  for (int i = 0; i < 1000000; ++i) {
    const double s = current > 0 ? p.soc_module_max() : p.soc_module_min();
    if ((current > 0 && s >= soc_stop) || (current < 0 && s <= soc_stop)) break;
    p.step(dt, current);
    wh += p.voltage() * current * dt / 3600.0;
  }
  return wh;
}

}  // namespace

TEST(PackModel, FixtureGivesTheRatedModuleEnergy) {
  PackParams pp = fixture();
  pp.capacity_spread = 0;
  pp.initial_soc = 1.0;
  PackModel p(pp, 1);
  const double module_wh = p.chemical_energy_wh() / pp.modules;  // full, at OCV
  EXPECT_GE(module_wh, figure("module_energy_wh", "min"));
  EXPECT_LE(module_wh, figure("module_energy_wh", "max"));
  EXPECT_NEAR(p.voltage(), 16 * 30 * 1.82, 16 * 30 * 0.04);  // ~860-890 V
}

TEST(PackModel, EnergyBalanceCloses) {
  PackParams pp = fixture();
  pp.capacity_fade_per_cycle = 0;  // capacity changes are not energy flows
  PackModel p(pp, 2);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  const double e0 = p.chemical_energy_wh();
  for (int i = 0; i < 20000; ++i) p.step(1.0, i < 10000 ? 20.0 : -30.0);  // stays inside 0..100 % SOC
  const PackEnergy& e = p.energy();
  const double in = e.terminal_in_wh - e.terminal_out_wh;
  const double accounted = (p.chemical_energy_wh() - e0) + e.resistive_wh + e.coulombic_loss_wh + e.self_discharge_wh +
                           e.drained_wh + e.overcharge_wh - e.overdischarge_wh;
  EXPECT_EQ(e.overcharge_wh, 0.0);
  EXPECT_EQ(e.overdischarge_wh, 0.0);
  EXPECT_GT(e.terminal_in_wh, 40e3);
  EXPECT_NEAR(accounted, in, 0.005 * e.terminal_in_wh) << "in " << in << " accounted " << accounted;
}

TEST(PackModel, RoundTripAndVoltageEfficiencyWithinTheFixtureFigures) {
  PackParams pp = fixture();
  pp.capacity_spread = pp.resistance_spread = 0;
  pp.initial_soc = 0.10;
  PackModel p(pp, 3);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  const double i = 56;  // 3 kW per module: the continuous rate
  const double in = run_until(p, i, 0.90);
  const double out = -run_until(p, -i, 0.10);
  const double rte = out / in;
  EXPECT_GE(rte, figure("dc_round_trip_efficiency", "min"));
  EXPECT_LE(rte, figure("dc_round_trip_efficiency", "max"));
  // Voltage efficiency at mid SOC: discharge over charge terminal voltage at the same SOC.
  PackParams mid = pp;
  mid.initial_soc = 0.5;
  PackModel a(mid, 3), b(mid, 3);
  a.set_allowed_currents(1e9, 1e9);
  a.set_contactor_command(true);
  b.set_allowed_currents(1e9, 1e9);
  b.set_contactor_command(true);
  a.step(1e-3, i);
  b.step(1e-3, -i);
  const double ve = b.voltage() / a.voltage();
  EXPECT_GE(ve, figure("voltage_efficiency", "min"));
  EXPECT_LE(ve, figure("voltage_efficiency", "max"));
}

TEST(PackModel, OverTemperatureDeratesThenOpensTheContactor) {
  PackParams pp = fixture();
  pp.thermal_capacity_j_per_k = 2e3;  // fast, so the test heats in minutes
  PackModel p(pp, 4);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  p.set_ambient(70);
  double limit_at_45 = -1;
  bool derated_below_40 = false;
  while (p.contactor_closed() && p.t_max() < 80) {
    p.step(0.1, 0.0);
    if (p.t_max() < pp.t_derate_c - 0.5) derated_below_40 = derated_below_40 || p.discharge_current_limit() < pp.i_discharge_max_a;
    if (limit_at_45 < 0 && p.t_max() >= 45) limit_at_45 = p.discharge_current_limit();
  }
  EXPECT_FALSE(derated_below_40);
  EXPECT_NEAR(limit_at_45, pp.i_discharge_max_a * 0.5, pp.i_discharge_max_a * 0.05);
  EXPECT_FALSE(p.contactor_closed());
  EXPECT_GE(p.t_max(), pp.t_shutdown_c);
  EXPECT_LT(p.t_max(), pp.t_shutdown_c + 1.0);  // opened at the threshold, not later
  EXPECT_TRUE(p.alarms() & kAlarmOverTemperature);
  EXPECT_EQ(p.state(), PackState::safe_shutdown);
}

TEST(PackModel, OverCurrentTripsAfterItsTime) {
  PackParams pp = fixture();
  PackModel p(pp, 5);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  for (int i = 0; i < 9; ++i) p.step(0.1, -(pp.i_trip_a + 1));
  EXPECT_TRUE(p.contactor_closed());  // 0.9 s over the threshold
  p.step(0.1, -(pp.i_trip_a + 1));
  p.step(0.1, -(pp.i_trip_a + 1));
  EXPECT_FALSE(p.contactor_closed());
  EXPECT_TRUE(p.alarms() & kAlarmOverCurrent);
  PackModel q(pp, 5);
  q.set_allowed_currents(1e9, 1e9);
  q.set_contactor_command(true);
  for (int i = 0; i < 100; ++i) q.step(0.1, -(pp.i_trip_a - 1));
  EXPECT_TRUE(q.contactor_closed());  // just under the threshold never trips
  // Reopening clears the latch once the condition has gone.
  p.set_contactor_command(false);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  p.step(0.1, 0.0);
  EXPECT_TRUE(p.contactor_closed());
}

TEST(PackModel, OverVoltageOnOverchargeTrips) {
  PackParams pp = fixture();
  pp.initial_soc = 0.99;
  PackModel p(pp, 6);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  // Forcing charge current past the BMS limit drives the cells over their trip voltage.
  for (int i = 0; i < 100 && p.contactor_closed(); ++i) p.step(0.1, 150.0);
  EXPECT_FALSE(p.contactor_closed());
  EXPECT_TRUE(p.alarms() & (kAlarmOverVoltage | kAlarmOverCurrent));
  EXPECT_EQ(p.charge_current_limit(), 0.0);
}

TEST(PackModel, LimitsTaperAtTheSocEnds) {
  PackParams pp = fixture();
  pp.capacity_spread = 0;
  pp.initial_soc = 0.99;
  PackModel full(pp, 7);
  full.set_allowed_currents(1e9, 1e9);
  full.set_contactor_command(true);
  full.step(0.1, 0);
  EXPECT_LT(full.charge_current_limit(), 0.25 * pp.i_charge_max_a);
  EXPECT_DOUBLE_EQ(full.discharge_current_limit(), pp.i_discharge_max_a);
  pp.initial_soc = 0.01;
  PackModel empty(pp, 7);
  empty.set_allowed_currents(1e9, 1e9);
  empty.set_contactor_command(true);
  empty.step(0.1, 0);
  EXPECT_LT(empty.discharge_current_limit(), 0.25 * pp.i_discharge_max_a);
}

TEST(PackModel, ManufacturingSpreadMakesModulesDiffer) {
  PackModel p(fixture(), 8);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  for (int i = 0; i < 3600; ++i) p.step(1.0, 50.0);
  EXPECT_GT(p.soc_module_max() - p.soc_module_min(), 0.005);
  PackParams same = fixture();
  same.capacity_spread = same.resistance_spread = 0;
  PackModel q(same, 8);
  q.set_allowed_currents(1e9, 1e9);
  q.set_contactor_command(true);
  for (int i = 0; i < 3600; ++i) q.step(1.0, 50.0);
  EXPECT_LT(q.soc_module_max() - q.soc_module_min(), 1e-12);
}

TEST(PackModel, SelfDischargeIsFasterWhenWarm) {
  PackParams pp = fixture();
  PackModel cool(pp, 9), warm(pp, 9);
  warm.set_ambient(45);
  for (int i = 0; i < 24 * 60; ++i) {
    cool.step(60, 0);
    warm.step(60, 0);
  }
  const double lost_cool = pp.initial_soc - cool.soc();
  EXPECT_NEAR(lost_cool, pp.self_discharge_per_day, 0.01);
  EXPECT_GT(pp.initial_soc - warm.soc(), 1.5 * lost_cool);
}

TEST(PackModel, StripCycleMaintenanceDischargeThenStripResetsLoading) {
  PackParams pp = fixture();
  pp.initial_soc = 0.3;
  pp.initial_zn_loading = pp.strip_interval_cycles;  // due now
  PackModel p(pp, 10);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  p.step(1, 0);
  EXPECT_TRUE(p.strip_due());
  const double usable_before = p.usable_capacity_ah(0);
  p.request_strip(true);
  p.step(1, 0);
  EXPECT_EQ(p.state(), PackState::maintenance_discharge);
  EXPECT_EQ(p.charge_current_limit(), 0.0);  // no charge while stripping
  p.request_strip(false);
  double t = 0;
  while (p.state() == PackState::maintenance_discharge && t < 48 * 3600) p.step(10, 0), t += 10;
  EXPECT_EQ(p.state(), PackState::anode_strip);
  EXPECT_EQ(p.discharge_current_limit(), 0.0);  // offline both ways
  t = 0;
  while (p.state() == PackState::anode_strip) p.step(10, 0), t += 10;
  EXPECT_NEAR(t, pp.strip_duration_s, 20);
  EXPECT_EQ(p.state(), PackState::run);
  EXPECT_FALSE(p.strip_due());
  EXPECT_EQ(p.zn_max(), 0.0);
  EXPECT_GT(p.usable_capacity_ah(0), usable_before);
  EXPECT_EQ(p.strips_completed(), 1u);
}

TEST(PackModel, StripBecomesDueWithThroughputAndTime) {
  PackParams pp = fixture();
  pp.initial_soc = 0.1;
  PackModel p(pp, 11);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  EXPECT_FALSE(p.strip_due());
  // Charge/discharge cycles until due.
  int cycles = 0;
  while (!p.strip_due() && cycles < 20) {
    run_until(p, 56, 0.9, 10);
    run_until(p, -56, 0.1, 10);
    ++cycles;
  }
  EXPECT_TRUE(p.strip_due());
  EXPECT_GE(cycles, 3);
  EXPECT_LE(cycles, 5);
  PackModel idle(pp, 11);
  for (int h = 0; h < 71; ++h) idle.step(3600, 0);
  EXPECT_FALSE(idle.strip_due());
  idle.step(3600, 0);
  EXPECT_TRUE(idle.strip_due());  // 72 h since the last strip
}

TEST(PackModel, InternalShortDrainsAndHeatsOneModule) {
  PackModel p(fixture(), 12);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  p.set_internal_short(true);
  for (int i = 0; i < 3600; ++i) p.step(1, 0);
  const auto n = p.modules().size();
  EXPECT_LT(p.module_soc(n - 1), p.module_soc(0) - 0.05);
  EXPECT_GT(p.modules()[n - 1].t_c, p.modules()[0].t_c + 0.5);
  EXPECT_TRUE(p.alarms() & kAlarmInternalShort);
}

TEST(PackModel, CurrentForPowerDeliversThePower) {
  PackModel p(fixture(), 13);
  p.set_allowed_currents(1e9, 1e9);
  p.set_contactor_command(true);
  for (double w : {50e3, -50e3, 10e3}) {
    const double i = p.current_for_power(w);
    PackModel q = p;
    q.step(1e-6, i);
    EXPECT_NEAR(q.voltage() * i, w, std::fabs(w) * 1e-6);
  }
}

TEST(PackModel, ReportedLimitsNeverExceedTheAllowedCurrents) {
  PackModel p(fixture(), 14);
  p.set_contactor_command(true);
  EXPECT_EQ(p.discharge_current_limit(), 0.0);  // nothing allowed yet: nothing reported
  p.set_allowed_currents(30, 40);
  EXPECT_EQ(p.charge_current_limit(), 30.0);
  EXPECT_EQ(p.discharge_current_limit(), 40.0);
  p.set_allowed_currents(std::nan(""), -5);
  EXPECT_EQ(p.charge_current_limit(), 0.0);
  EXPECT_EQ(p.discharge_current_limit(), 0.0);
}
