// The site's power balance, island unserved load and ITIC load transfer.
#include <gtest/gtest.h>

#include "devices/sim/site_simulator.hpp"
#include "devices/sim/simulator_params.hpp"
#include "test_support.hpp"

using namespace zhil;
using namespace zhil::sim;

namespace {
ConfigNode entry(const std::string& file) { return test::fixture_entry(file); }

struct Site {
  SiteSimulator site{60.0};
  InverterModel* inv;
  LoadModel* load;
  explicit Site(int packs, bool itic = false) {
    PackParams pp = load_pack_params(entry("fixtures/packs/zh-160kwh-16s.yaml"));
    std::vector<PackModel*> raw;
    for (int i = 0; i < packs; ++i) {
      raw.push_back(&site.add_pack("pack" + std::to_string(i), pp, i));
      raw.back()->set_allowed_currents(1e9, 1e9);
      raw.back()->set_contactor_command(true);
      raw.back()->step(0, 0);
    }
    inv = &site.add_inverter(load_inverter_params(entry("fixtures/inverters/pcs-750kva.yaml"), 60, 480), raw);
    inv->set_output_limits(1e9, 1e9);
    LoadParams lp;
    lp.initial_demand_w = 500e3;
    lp.itic = itic;
    load = &site.add_load(lp);
  }
  void run(double s, double dt = 0.1) {
    for (double t = 0; t < s - 1e-9; t += dt) site.step(dt);
  }
};
}  // namespace

TEST(SiteSimulator, GridImportIsLoadMinusInverterOutput) {
  Site s(8);
  s.inv->set_power_setpoint(200e3);
  s.run(2);
  EXPECT_NEAR(s.site.grid().p_import_w, 500e3 - s.inv->p_ac(), 1e-6);
  EXPECT_NEAR(s.site.grid().p_import_w, 300e3, 1e-6);
  EXPECT_EQ(s.load->p_unserved_w, 0.0);
}

TEST(SiteSimulator, IslandCarriesTheLoadOrReportsUnserved) {
  Site s(8);
  s.inv->set_grid_forming_enabled(true);
  s.site.grid().set_outage(true);
  s.run(1);
  EXPECT_TRUE(s.site.islanded());
  EXPECT_EQ(s.site.grid().p_import_w, 0.0);
  EXPECT_NEAR(s.load->p_drawn_w, 500e3, 1e-6);
  EXPECT_EQ(s.load->p_unserved_w, 0.0);
  s.load->set_demand(1.2e6);  // more than 750 kVA
  s.run(1);
  EXPECT_NEAR(s.load->p_unserved_w, 1.2e6 - s.inv->p_ac(), 1e-6);
  EXPECT_GT(s.load->p_unserved_w, 400e3);
}

TEST(SiteSimulator, OutageWithoutGridFormingLeavesLoadUnserved) {
  Site s(8);
  s.site.grid().set_outage(true);
  s.run(1);
  EXPECT_FALSE(s.site.islanded());
  EXPECT_NEAR(s.load->p_unserved_w, 500e3, 1e-6);
}

TEST(SiteSimulator, IticSagMovesTheLoadToItsBackup) {
  Site ride(8, true);
  ride.site.grid().set_voltage_pu(0.85);
  ride.run(5);  // 85 % for 5 s is inside the curve (80 % for 10 s)
  EXPECT_FALSE(ride.load->on_backup());
  Site sag(8, true);
  sag.site.grid().set_voltage_pu(0.75);
  sag.run(1);  // 75 % for 1 s is outside (80 % only to 0.5 s)
  EXPECT_TRUE(sag.load->on_backup());
  EXPECT_EQ(sag.load->p_drawn_w, 0.0);
  EXPECT_EQ(sag.load->p_unserved_w, 0.0);  // its own backup carries it
  EXPECT_NEAR(sag.site.grid().p_import_w, -sag.inv->p_ac(), 1e-6);
}
