#include <gtest/gtest.h>

#include "harness/signal_table.hpp"

using namespace zhil;

TEST(SignalTable, AddFindSetAndQuality) {
  SignalTable t;
  SignalId a, b;
  ASSERT_TRUE(t.add("pack1.soc", "1", SignalKind::measurement, "pack1", &a));
  ASSERT_TRUE(t.add("inv1.p_set", "W", SignalKind::command, "inv1", &b));
  EXPECT_EQ(t.find("pack1.soc"), a);
  EXPECT_EQ(t.find("nope"), kNoSignal);
  EXPECT_EQ(t.quality(a), Quality::stale);  // nothing read yet
  t.set(a, 0.5, Time(1000));
  EXPECT_EQ(t.value(a), 0.5);
  EXPECT_EQ(t.quality(a), Quality::good);
  EXPECT_EQ(t.stamp(a), Time(1000));
  EXPECT_EQ(t.info(b).unit, "W");
}

TEST(SignalTable, SharedCommandsAndConflicts) {
  SignalTable t;
  SignalId a, b;
  ASSERT_TRUE(t.add("inv1.p_set", "W", SignalKind::command, "inv1", &a));
  ASSERT_TRUE(t.add("inv1.p_set", "W", SignalKind::command, "core", &b));
  EXPECT_EQ(a, b);
  EXPECT_FALSE(t.add("inv1.p_set", "kW", SignalKind::command, "core", &b));
  ASSERT_TRUE(t.add("pack1.v", "V", SignalKind::measurement, "pack1", &a));
  Status dup = t.add("pack1.v", "V", SignalKind::measurement, "other", &b);
  EXPECT_FALSE(dup);
  EXPECT_NE(dup.message().find("published by both"), std::string::npos);
}

TEST(SignalTable, FrozenTableRefusesNewSignals) {
  SignalTable t;
  SignalId a;
  ASSERT_TRUE(t.add("x.a", "1", SignalKind::measurement, "x", &a));
  const double* p = t.value_ptr(a);
  t.freeze();
  EXPECT_FALSE(t.add("x.b", "1", SignalKind::measurement, "x", &a));
  t.set(0, 3.0, Time(0));
  EXPECT_EQ(*p, 3.0);  // expressions bind to this storage
}
