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

// A quantity in whatever unit it is spelt: the value in SI and the SI unit ("" for a bare number).
QuantityParse parse_quantity_any(std::string_view text, std::string* si_unit);

// Whether `unit` is an SI unit zhil knows ("W", "degC", "1"...), as signals and measurements name them.
bool is_known_unit(std::string_view unit);

// "between 40 and 70 Hz", for range errors.
std::string range_text(double lo, double hi, std::string_view unit);

// A plain finite number (no unit), as std::from_chars reads it; refuses nan, inf and overflow.
std::optional<double> parse_finite_number(std::string_view text);

}  // namespace zhil
