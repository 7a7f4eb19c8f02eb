#pragma once
// Reads coalesced into the fewest requests: every register a map's readings need (the entries that
// read a signal; with ReadSet::full also the entries read for information and the scale factors of
// every entry, commands too, since a write is encoded with them), grouped into runs of at most
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

// What a read is for: every cycle the readings only; at activation, and now and then after, also
// what is (nearly) static: scale factors, ratings, identity.
enum class ReadSet { cycle, full };
// `blocks` empty: runs span only registers some entry needs.
std::vector<ReadRun> plan_reads(const RegisterMap& resolved, const std::vector<ReadableBlock>& blocks, ReadSet set,
                                int max_count = kMaxReadRegisters);

}  // namespace zhil::modbus
