#pragma once
// Reads coalesced into the fewest requests: every register a map's readings need (the entries that
// read a signal or are read for information, their scale factors), grouped into runs of at most
// 125 registers (a Modbus read's limit) that may span gaps only inside a block the device is known
// to answer for (a SunSpec model chain; a block the map declares). Greedy from the lowest address
// is optimal for covering sorted intervals with bounded runs.
#include <vector>

#include "devices/modbus/register_map.hpp"

namespace zhil::modbus {

struct ReadRun {
  int address = 0;
  int count = 0;
};

constexpr int kMaxReadRegisters = 125;

// `blocks` empty: runs span only registers some entry needs.
std::vector<ReadRun> plan_reads(const RegisterMap& resolved, const std::vector<ReadableBlock>& blocks,
                                int max_count = kMaxReadRegisters);

}  // namespace zhil::modbus
