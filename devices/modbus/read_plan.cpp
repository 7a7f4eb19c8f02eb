#include "devices/modbus/read_plan.hpp"

#include <algorithm>

namespace zhil::modbus {

namespace {

struct Span {
  int first, end;  // [first, end)
};

const ReadableBlock* block_of(const std::vector<ReadableBlock>& blocks, int address) {
  for (const ReadableBlock& b : blocks)
    if (address >= b.first && address <= b.last) return &b;
  return nullptr;
}

}  // namespace

std::vector<ReadRun> plan_reads(const RegisterMap& map, const std::vector<ReadableBlock>& blocks, ReadSet set,
                                int max_count) {
  std::vector<Span> spans;
  for (const MapEntry& e : map.entries) {
    if (!e.resolved()) continue;
    const bool full = set == ReadSet::full;
    // A full read also takes a SunSpec device's command points: whether the device implements one
    // is seen in its value (its not-implemented pattern) before anything is written to it.
    const bool command = e.written();
    if (e.role == EntryRole::reads || e.heartbeat > Duration{0} || (full && e.role == EntryRole::info) ||
        (full && command && e.model != 0))
      spans.push_back({e.address, e.address + e.format.words});
    if (full && e.scale_address >= 0) spans.push_back({e.scale_address, e.scale_address + 1});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.first < b.first; });
  std::vector<ReadRun> runs;
  int first = -1, end = -1;
  for (const Span& s : spans) {
    if (first >= 0) {
      const int new_end = std::max(end, s.end);
      const bool fits = new_end - first <= max_count;
      // A gap between the run and this span must lie inside one block the device answers for.
      bool joinable = s.first <= end;
      if (!joinable) {
        const ReadableBlock* b = block_of(blocks, first);
        joinable = b && s.end - 1 <= b->last && end >= b->first;
      }
      if (fits && joinable) {
        end = new_end;
        continue;
      }
      runs.push_back({first, end - first});
    }
    first = s.first;
    end = s.end;
  }
  if (first >= 0) runs.push_back({first, end - first});
  // A single entry wider than a read (a long string) is split.
  std::vector<ReadRun> out;
  for (const ReadRun& r : runs)
    for (int a = r.address; a < r.address + r.count; a += max_count)
      out.push_back({a, std::min(max_count, r.address + r.count - a)});
  return out;
}

}  // namespace zhil::modbus
