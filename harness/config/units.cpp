#include "harness/config/units.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

namespace zhil {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct UnitSpelling {
  std::string_view text;
  std::string_view si;
  double factor;
};

// Spellings accepted for each SI unit. Prefixes are listed explicitly rather than combined, so a
// typo such as "mW" for a megawatt figure is an error only if it is not a real unit.
constexpr std::array<UnitSpelling, 44> kSpellings{{
    {"W", "W", 1}, {"kW", "W", 1e3}, {"MW", "W", 1e6}, {"GW", "W", 1e9}, {"mW", "W", 1e-3},
    {"VA", "VA", 1}, {"kVA", "VA", 1e3}, {"MVA", "VA", 1e6},
    {"var", "var", 1}, {"kvar", "var", 1e3}, {"Mvar", "var", 1e6},
    {"V", "V", 1}, {"kV", "V", 1e3}, {"mV", "V", 1e-3},
    {"A", "A", 1}, {"kA", "A", 1e3}, {"mA", "A", 1e-3},
    {"Ah", "Ah", 1}, {"kAh", "Ah", 1e3},
    {"Hz", "Hz", 1}, {"mHz", "Hz", 1e-3},
    {"s", "s", 1}, {"ms", "s", 1e-3}, {"us", "s", 1e-6}, {"min", "s", 60}, {"h", "s", 3600},
    {"d", "s", 86400},
    {"Wh", "Wh", 1}, {"kWh", "Wh", 1e3}, {"MWh", "Wh", 1e6},
    {"J", "J", 1}, {"kJ", "J", 1e3}, {"MJ", "J", 1e6},
    {"degC", "degC", 1}, {"C", "degC", 1},
    {"W/s", "W/s", 1}, {"kW/s", "W/s", 1e3}, {"MW/s", "W/s", 1e6},
    {"%", "1", 0.01}, {"pu", "1", 1}, {"1", "1", 1},
    {"K/W", "K/W", 1}, {"J/K", "J/K", 1}, {"ohm", "ohm", 1},
}};

}  // namespace

std::optional<double> parse_finite_number(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

namespace {
// The number at the front of `text` and where its unit starts.
std::size_t number_end(std::string_view text) {
  std::size_t split = 0;
  while (split < text.size()) {
    char c = text[split];
    bool numeric = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+';
    bool exponent = (c == 'e' || c == 'E') && split + 1 < text.size() &&
                    ((text[split + 1] >= '0' && text[split + 1] <= '9') || text[split + 1] == '-' ||
                     text[split + 1] == '+') && split > 0;
    if (!numeric && !exponent) break;
    ++split;
  }
  return split;
}
}  // namespace

bool is_known_unit(std::string_view unit) {
  for (const auto& s : kSpellings)
    if (s.si == unit) return true;
  return false;
}

std::string range_text(double lo, double hi, std::string_view unit) {
  auto num = [](double v) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
  };
  const std::string u = unit == "1" ? "" : " " + std::string(unit);
  return "between " + num(lo) + u + " and " + num(hi) + u;
}

QuantityParse parse_quantity_any(std::string_view text, std::string* si_unit) {
  text = trim(text);
  const std::size_t split = number_end(text);
  std::string_view spelled = trim(text.substr(split));
  if (spelled.empty()) {
    if (si_unit) si_unit->clear();
    return parse_quantity(text, "1");
  }
  for (const auto& s : kSpellings)
    if (s.text == spelled) {
      if (si_unit) *si_unit = std::string(s.si);
      return parse_quantity(text, s.si);
    }
  return {std::nullopt, "unknown unit '" + std::string(spelled) + "' in '" + std::string(text) + "'"};
}

QuantityParse parse_quantity(std::string_view text, std::string_view unit) {
  text = trim(text);
  // Split at the first character that cannot belong to a number.
  const std::size_t split = number_end(text);
  auto number = parse_finite_number(text.substr(0, split));
  if (!number)
    return {std::nullopt, "'" + std::string(text) + "' is not a finite number" +
                              (unit == "1" ? "" : " with a unit of " + std::string(unit))};
  std::string_view spelled = trim(text.substr(split));
  if (spelled.empty()) return {number, {}};
  for (const auto& s : kSpellings) {
    if (s.text != spelled) continue;
    if (s.si != unit)
      return {std::nullopt, "'" + std::string(text) + "' is in " + std::string(s.si) +
                                " but " + std::string(unit) + " is expected here"};
    const double v = *number * s.factor;
    if (!std::isfinite(v)) return {std::nullopt, "'" + std::string(text) + "' is too large to be a finite number"};
    return {v, {}};
  }
  return {std::nullopt, "unknown unit '" + std::string(spelled) + "' in '" + std::string(text) +
                            "' (expected " + std::string(unit) + ")"};
}

}  // namespace zhil
