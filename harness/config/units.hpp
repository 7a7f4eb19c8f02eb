#pragma once
// Physical quantities as written in scenario and station files: "1.2 MW", "600 kW", "59.5 Hz",
// "100 ms", "24 h", "45 degC", "30 %". Values are converted to the SI unit the caller asks for.
#include <optional>
#include <string>
#include <string_view>

namespace zhil {

struct QuantityParse {
  std::optional<double> value;  // empty on error
  std::string error;            // why, when empty
};

// unit: the SI unit expected ("W", "V", "A", "Hz", "s", "VA", "var", "Wh", "J", "degC", "1",
// "W/s", "Ah"). A bare number is taken in that unit. Non-finite numbers are refused.
QuantityParse parse_quantity(std::string_view text, std::string_view unit);

// A plain finite number (no unit), as std::from_chars reads it; refuses nan, inf and overflow.
std::optional<double> parse_finite_number(std::string_view text);

}  // namespace zhil
