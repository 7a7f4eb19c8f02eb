// libFuzzer target: a check condition, through the syntax check, binding to a small frozen signal
// table, and evaluation. A condition is refused with a message or evaluates to a number; anything
// else (a crash, a sanitizer report, an exception other than the documented ones) is a finding.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "harness/scenario/expression.hpp"
#include "harness/signal_table.hpp"

namespace {
zhil::SignalTable& table() {
  static zhil::SignalTable t = [] {
    zhil::SignalTable s;
    zhil::SignalId id;
    (void)s.add("grid.p_import", "W", zhil::SignalKind::measurement, "grid", &id);
    (void)s.add("pack1.soc", "1", zhil::SignalKind::measurement, "pack1", &id);
    (void)s.add("pack1.t_max", "degC", zhil::SignalKind::measurement, "pack1", &id);
    (void)s.add("inv1.p_set", "W", zhil::SignalKind::command, "inv1", &id);
    s.freeze();
    return s;
  }();
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // conditions are one line
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (!zhil::check_expression_syntax(text).empty()) return 0;
  try {
    zhil::Expression e(text, table());
    (void)e.evaluate();
  } catch (const std::runtime_error&) {
    // unknown signal: refused with a message
  }
  return 0;
}
