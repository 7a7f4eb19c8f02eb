#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "harness/control/demand_forecast.hpp"

using namespace zhil;

namespace {
double diurnal(double tod) { return 600e3 + 400e3 * (0.5 + 0.5 * std::cos(2 * std::numbers::pi * (tod - 15 * 3600) / 86400)); }
}  // namespace

TEST(DemandForecast, LearnsADiurnalProfileInADay) {
  DemandForecast f;
  EXPECT_FALSE(f.learned());
  for (double t = 0; t < 86400 + 900; t += 60) f.observe(std::fmod(t, 86400), diurnal(std::fmod(t, 86400)), 60);
  EXPECT_TRUE(f.learned());
  EXPECT_NEAR(f.at(15 * 3600), diurnal(15 * 3600), 5e3);
  EXPECT_NEAR(f.at(3 * 3600), diurnal(3 * 3600), 5e3);
}

TEST(DemandForecast, EnergyAboveALimitAndTheLowDemandWindow) {
  DemandForecast f;
  for (double t = 0; t < 2 * 86400; t += 60) f.observe(std::fmod(t, 86400), diurnal(std::fmod(t, 86400)), 60);
  // Above 900 kW the curve spends some hours around 15:00.
  const double wh = f.energy_above(900e3, 0, 86400);
  EXPECT_GT(wh, 200e3);
  EXPECT_LT(wh, 800e3);
  EXPECT_EQ(f.energy_above(2e6, 0, 86400), 0.0);
  // The lowest 3 h window of the day is centred on 03:00, so it starts at 01:30.
  EXPECT_TRUE(f.in_low_demand_window(1.5 * 3600, 3 * 3600, 86400));
  EXPECT_FALSE(f.in_low_demand_window(14 * 3600, 3 * 3600, 86400));
}

TEST(DemandForecast, AdaptsWithExponentialSmoothing) {
  DemandForecast f(96, 0.5);
  for (double t = 0; t < 86400 + 900; t += 60) f.observe(std::fmod(t, 86400), 500e3, 60);
  for (double t = 86400 + 900; t < 2 * 86400 + 900; t += 60) f.observe(std::fmod(t, 86400), 700e3, 60);
  EXPECT_NEAR(f.at(12 * 3600), 600e3, 1.0);  // halfway after one day at alpha 0.5
}
