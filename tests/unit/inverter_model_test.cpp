// Inverter physics: setpoint tracking under the ramp limit, kVA and current limits, losses, trips
// at the must-trip settings, droop, island and return to service.
#include <gtest/gtest.h>

#include <cmath>

#include "devices/sim/inverter_model.hpp"
#include "devices/sim/simulator_params.hpp"
#include "test_support.hpp"

using namespace zhil;
using namespace zhil::sim;

namespace {

ConfigNode entry(const std::string& file) { return test::fixture_entry(file); }

struct Rig {
  PackParams pp = load_pack_params(entry("fixtures/packs/zh-160kwh-16s.yaml"));
  InverterParams ip = load_inverter_params(entry("fixtures/inverters/pcs-750kva.yaml"), 60.0, 480.0);
  std::vector<std::unique_ptr<PackModel>> packs;
  std::unique_ptr<InverterModel> inv;
  explicit Rig(int n_packs = 8) {
    std::vector<PackModel*> raw;
    for (int i = 0; i < n_packs; ++i) {
      packs.push_back(std::make_unique<PackModel>(pp, 100 + i));
      packs.back()->set_allowed_currents(1e9, 1e9);
      packs.back()->set_contactor_command(true);
      packs.back()->step(0.0, 0.0);
      raw.push_back(packs.back().get());
    }
    inv = std::make_unique<InverterModel>(ip, raw);
    inv->set_output_limits(1e9, 1e9);  // the envelope's bounds; these tests are about the inverter itself
  }
  void run(double seconds, double v = 1.0, double f = 60.0, bool grid = true, double island = 0, double dt = 0.01) {
    for (double t = 0; t < seconds - 1e-9; t += dt) inv->step(dt, grid, v, f, island);
  }
};

}  // namespace

TEST(InverterModel, TracksSetpointAtTheRampRate) {
  Rig r;
  r.inv->set_power_setpoint(300e3);
  r.run(0.02);
  EXPECT_NEAR(r.inv->p_ac(), r.ip.ramp_w_per_s * 0.02, 1.0);
  r.run(1.0);
  EXPECT_NEAR(r.inv->p_ac(), 300e3, 1e-6);
  r.inv->set_power_setpoint(-200e3);
  r.run(1.0);
  EXPECT_NEAR(r.inv->p_ac(), -200e3, 1e-6);
}

TEST(InverterModel, LimitedByRatingPacksAndCurrentAtLowVoltage) {
  Rig r;
  r.inv->set_power_setpoint(5e6);
  r.run(1.0);
  EXPECT_NEAR(r.inv->p_ac(), std::min(r.ip.p_rated_w, r.inv->available_discharge_w()), 0.005 * r.inv->p_ac());
  EXPECT_LT(r.inv->p_ac(), r.ip.p_rated_w);  // eight packs' BMS limits bind before the rating
  Rig two(2);  // two packs cannot give 750 kW: the BMS limits cap it
  two.inv->set_power_setpoint(750e3);
  two.run(1.0);
  EXPECT_LT(two.inv->p_ac(), 200e3);
  for (auto& p : two.packs) EXPECT_LE(-p->current(), two.pp.i_discharge_max_a + 0.5);
  // At 0.5 pu the AC current limit halves the apparent power available.
  Rig low;
  low.inv->set_power_setpoint(750e3);
  low.run(0.1, 0.5);
  EXPECT_LE(low.inv->p_ac(), std::sqrt(3.0) * 480 * 0.5 * low.ip.i_max_a + 1);
}

TEST(InverterModel, ReactivePowerYieldsToActiveWithinKva) {
  Rig r;
  r.inv->set_power_setpoint(500e3);
  r.inv->set_reactive_setpoint(700e3);
  r.run(1.0);
  EXPECT_NEAR(r.inv->p_ac(), 500e3, 1);
  EXPECT_NEAR(std::hypot(r.inv->p_ac(), r.inv->q_ac()), r.ip.s_rated_va, 1);  // Q gave way
}

TEST(InverterModel, ConversionLossesMatchTheFixtureEfficiency) {
  Rig r;
  r.inv->set_power_setpoint(500e3);
  r.run(1.0);
  const double eff = r.inv->p_ac() / r.inv->p_dc();
  const double expected = 500e3 / (500e3 + r.ip.no_load_loss_w + (1 / r.ip.efficiency - 1) * 500e3);
  EXPECT_NEAR(eff, expected, 1e-9);
  EXPECT_GT(eff, 0.96);
  // Charging: the packs get less than the grid gives.
  r.inv->set_power_setpoint(-500e3);
  r.run(1.0);
  EXPECT_LT(-r.inv->p_dc(), 500e3);
  double into_packs = 0;
  for (auto& p : r.packs) into_packs += p->voltage() * p->current();
  EXPECT_NEAR(into_packs, -r.inv->p_dc(), 1.0);
}

TEST(InverterModel, OverFrequencyTripsAtOf2AfterItsClearingTime) {
  Rig r;
  r.run(0.15, 1.0, 62.05);
  EXPECT_FALSE(r.inv->tripped());
  r.run(0.02, 1.0, 62.05);
  EXPECT_TRUE(r.inv->tripped());
  EXPECT_EQ(r.inv->p_ac(), 0.0);
  Rig below;
  below.run(10.0, 1.0, 61.95);  // inside OF2, and OF1 (61.2 Hz) needs 300 s
  EXPECT_FALSE(below.inv->tripped());
}

TEST(InverterModel, UnderVoltageTripsAtUv2AndRidesThroughAboveIt) {
  Rig r;
  r.run(0.2, 0.40);
  EXPECT_TRUE(r.inv->tripped());
  EXPECT_NE(r.inv->trip_reason().find("UV2"), std::string::npos);
  Rig ride;
  ride.run(5.0, 0.60);  // UV1 allows 10 s below 0.70 pu
  EXPECT_FALSE(ride.inv->tripped());
  ride.run(5.1, 0.60);
  EXPECT_TRUE(ride.inv->tripped());
}

TEST(InverterModel, ReturnsToServiceAfterTheDelayAndRampsIn) {
  Rig r;
  r.inv->set_trip_fault(true);
  r.run(0.1);
  ASSERT_TRUE(r.inv->tripped());
  r.inv->set_trip_fault(false);
  r.inv->set_power_setpoint(500e3);
  r.run(r.ip.enter_service_delay_s - 1, 1.0, 60.0, true, 0, 0.1);
  EXPECT_TRUE(r.inv->tripped());
  r.run(2, 1.0, 60.0, true, 0, 0.1);
  EXPECT_FALSE(r.inv->tripped());
  // Never a jump to the stale setpoint: output grows along the enter-service ramp.
  EXPECT_LT(r.inv->p_ac(), r.ip.p_rated_w * 2 / r.ip.enter_service_ramp_s + 1);
  r.run(r.ip.enter_service_ramp_s, 1.0, 60.0, true, 0, 0.1);
  EXPECT_NEAR(r.inv->p_ac(), 500e3, 1);
}

TEST(InverterModel, FrequencyWattDroop) {
  Rig r;
  r.run(30, 1.0, 60.02);  // inside the 36 mHz deadband
  EXPECT_EQ(r.inv->p_droop(), 0.0);
  r.run(5.0, 1.0, 59.5);
  const double full = (0.5 - r.ip.droop_deadband_hz) / (60 * r.ip.droop) * r.ip.p_rated_w;
  EXPECT_NEAR(r.inv->p_droop(), 0.9 * full, 0.01 * full);  // 90 % at the response time
  r.run(30, 1.0, 59.5);
  EXPECT_NEAR(r.inv->p_droop(), full, 1e-3 * full);
  EXPECT_NEAR(r.inv->p_ac(), full, 1e-3 * full);
  r.run(60, 1.0, 60.3);
  EXPECT_LT(r.inv->p_droop(), 0);
}

TEST(InverterModel, IslandsOnOutageWhenEnabledElseCeasesToEnergise) {
  Rig r;
  r.inv->set_grid_forming_enabled(true);
  r.run(0.1, 0.0, 0.0, false, 400e3);
  EXPECT_EQ(r.inv->mode(), InverterMode::grid_forming);
  EXPECT_NEAR(r.inv->p_ac(), 400e3, 1e-6);  // follows the island's load at once
  r.inv->set_power_setpoint(r.inv->p_ac());  // as the core does in island
  r.run(0.1, 1.0, 60.0, true, 0);           // grid back: following, from where it was
  EXPECT_EQ(r.inv->mode(), InverterMode::grid_following);
  EXPECT_NEAR(r.inv->p_ac(), 400e3, 1e-6);
  Rig off;
  off.inv->set_power_setpoint(100e3);
  off.run(1.0);
  off.run(0.5, 0.0, 0.0, false, 400e3);
  EXPECT_TRUE(off.inv->tripped() || off.inv->p_ac() == 0.0);
  EXPECT_EQ(off.inv->p_ac(), 0.0);
}

TEST(InverterModel, OutputLimitsBoundSetpointDroopAndIsland) {
  Rig r;
  r.inv->set_output_limits(100e3, 50e3);
  r.inv->set_power_setpoint(300e3);
  r.run(30, 1.0, 59.5);  // setpoint plus droop, both past the limit
  EXPECT_NEAR(r.inv->p_ac(), 100e3, 1e-6);
  r.inv->set_power_setpoint(-300e3);
  r.run(30, 1.0, 60.4);
  EXPECT_NEAR(r.inv->p_ac(), -50e3, 1e-6);
  r.inv->set_grid_forming_enabled(true);
  r.run(1, 0.0, 0.0, false, 400e3);
  EXPECT_NEAR(r.inv->p_ac(), 100e3, 1e-6);  // island carries only what the envelope allows
  r.inv->set_output_limits(0, 0);
  EXPECT_EQ(r.inv->island_capacity_w(false), 0.0);
}

TEST(InverterModel, DroopDeliveredIsWhatTheOutputCarriesAtALimit) {
  // 59.5 Hz asks for +116 kW of droop. With room, all of it shows in p_ac; at the discharge limit,
  // none can: p_droop still says what was asked, p_droop_delivered what p_ac carries.
  Rig room;
  room.inv->set_power_setpoint(100e3);
  room.run(40, 1.0, 59.5);
  EXPECT_NEAR(room.inv->p_droop_delivered(), room.inv->p_droop(), 1e-6);
  EXPECT_NEAR(room.inv->p_ac(), 100e3 + room.inv->p_droop_delivered(), 1e-3);
  Rig at_limit;
  at_limit.inv->set_output_limits(150e3, 150e3);
  at_limit.inv->set_power_setpoint(100e3);
  at_limit.run(40, 1.0, 59.5);
  EXPECT_GT(at_limit.inv->p_droop(), 110e3);
  EXPECT_NEAR(at_limit.inv->p_droop_delivered(), 50e3, 1e-3);  // only up to the 150 kW limit
  EXPECT_NEAR(at_limit.inv->p_ac(), 150e3, 1e-3);
}

TEST(InverterModel, SafeStateRampsDownAndIsLeftOnActivation) {
  Rig r;
  r.inv->set_power_setpoint(500e3);
  r.run(1);
  ASSERT_NEAR(r.inv->p_ac(), 500e3, 1);
  r.inv->enter_safe_state();
  r.run(0.02);
  EXPECT_GT(r.inv->p_ac(), 0);  // ramping, not cut
  r.run(0.2);
  EXPECT_EQ(r.inv->p_ac(), 0.0);
  r.inv->set_power_setpoint(200e3);  // ignored while safe
  r.run(0.2);
  EXPECT_EQ(r.inv->p_ac(), 0.0);
  r.inv->leave_safe_state();
  r.inv->set_power_setpoint(200e3);
  r.run(0.5);
  EXPECT_NEAR(r.inv->p_ac(), 200e3, 1e-6);
}

TEST(InverterParams, ARatingOverriddenAloneIsRefusedNamingWhatScalesWithIt) {
  // A 100 kW bench from the 750 kVA fixture, keeping its 1.5 kW no-load loss (1.5 % of 100 kW).
  const std::string dir = test::scratch_dir("inverter-ratio");
  const std::string f = test::source_path("fixtures/inverters/pcs-750kva.yaml");
  auto params = [&](const std::string& extra) {
    return ConfigNode::load_file(test::write_file(dir, "entry.yaml", "file: " + f + "\n" + extra));
  };
  try {
    load_inverter_params(params("s_rated: 100 kVA\np_rated: 100 kW\ni_max: 130 A\n"), 60, 480);
    FAIL() << "a 1.5 % no-load loss passed";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("entry.yaml:3:10:"), std::string::npos) << m;        // at the overridden p_rated
    EXPECT_NE(m.find("pcs-750kva.yaml:"), std::string::npos) << m;        // naming the loss in the fixture
    EXPECT_NE(m.find("1.5 % of p_rated"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(load_inverter_params(params("s_rated: 100 kVA\np_rated: 100 kW\ni_max: 130 A\nno_load_loss: 200 W\n"), 60, 480));
  EXPECT_THROW(load_inverter_params(params("s_rated: 100 kVA\np_rated: 100 kW\nno_load_loss: 200 W\n"), 60, 480),
               ConfigError);  // i_max of the 750 kVA machine on a 100 kVA one
  EXPECT_THROW(load_inverter_params(params("p_rated: 800 kW\n"), 60, 480), ConfigError);  // P above S
}
