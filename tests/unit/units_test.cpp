#include <gtest/gtest.h>

#include "harness/config/units.hpp"

using namespace zhil;

TEST(Units, ConvertsToSi) {
  EXPECT_DOUBLE_EQ(*parse_quantity("1.2 MW", "W").value, 1.2e6);
  EXPECT_DOUBLE_EQ(*parse_quantity("600kW", "W").value, 600e3);
  EXPECT_DOUBLE_EQ(*parse_quantity("100 ms", "s").value, 0.1);
  EXPECT_DOUBLE_EQ(*parse_quantity("24 h", "s").value, 86400);
  EXPECT_DOUBLE_EQ(*parse_quantity("36 mHz", "Hz").value, 0.036);
  EXPECT_DOUBLE_EQ(*parse_quantity("30 %", "1").value, 0.3);
  EXPECT_DOUBLE_EQ(*parse_quantity("-4e3", "W").value, -4000);
  EXPECT_DOUBLE_EQ(*parse_quantity("2.9e-3 ohm", "ohm").value, 2.9e-3);
}

TEST(Units, RefusesWrongUnitsAndNonFinite) {
  EXPECT_FALSE(parse_quantity("5 kW", "s").value);
  EXPECT_NE(parse_quantity("5 kW", "s").error.find("but s is expected"), std::string::npos);
  EXPECT_FALSE(parse_quantity("5 furlongs", "W").value);
  EXPECT_FALSE(parse_quantity("nan", "W").value);
  EXPECT_FALSE(parse_quantity(".nan", "W").value);
  EXPECT_FALSE(parse_quantity("inf", "W").value);
  EXPECT_FALSE(parse_quantity(".inf", "W").value);
  EXPECT_FALSE(parse_quantity("1e400", "W").value);
  EXPECT_FALSE(parse_quantity("", "W").value);
  EXPECT_FALSE(parse_finite_number("0x10"));
}
