#pragma once
// Which signals a scenario records (`record: [grid.*, pack*.soc, inv1.p_ac]`): glob patterns over
// signal names, whose segments are separated by '.'. `*` and `?` stay within a segment (pack*.soc
// is every pack's SOC, not every module's), `**` spans segments (pack1.** is all of pack1).
#include <string>
#include <string_view>
#include <vector>

#include "harness/signal_table.hpp"

namespace zhil {

struct RecordPattern {
  std::string glob;
  std::string where;  // file:line:column in the scenario
};

bool glob_match(std::string_view pattern, std::string_view name);

// Signal ids in table order. Throws std::runtime_error naming the pattern's file:line:column when a
// pattern matches nothing (a typo would otherwise record less than asked, silently). No patterns:
// every signal.
std::vector<SignalId> select_signals(const SignalTable& signals, const std::vector<RecordPattern>& patterns);

}  // namespace zhil
