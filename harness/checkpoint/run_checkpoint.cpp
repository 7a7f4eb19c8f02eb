#include "harness/checkpoint/run_checkpoint.hpp"

#include <sstream>

#include "harness/checkpoint/state_archive.hpp"

namespace zhil {
namespace {

constexpr char kMagic[8] = {'Z', 'H', 'I', 'L', 'C', 'K', 'P', 'T'};
constexpr std::uint32_t kFormat = 1;

template <class Archive>
void fields(Archive& a, RunCheckpoint& c) {
  a(c.software_version, c.run_id, c.started_utc, c.scenario_file, c.scenario_sha256, c.station_file, c.station_sha256,
    c.seed, c.real_time, c.out_dir, c.core_name, c.dut_serial, c.metadata, c.every, c.inputs);
  a(c.sequence, c.at, c.cycles, c.timeseries_bytes, c.timeseries_rows, c.events, c.resumptions, c.state);
}

}  // namespace

void state_section(StateWriter& a, std::string_view name) { a(std::string(name)); }

void state_section(StateReader& a, std::string_view name) {
  std::string found;
  a(found);
  if (found != name)
    throw CheckpointError("checkpoint: expected the state of '" + std::string(name) + "', found '" + found +
                          "': it was taken on another station or scenario");
}

std::string encode_checkpoint(const RunCheckpoint& c) {
  std::ostringstream out;
  out.write(kMagic, sizeof kMagic);
  {
    StateWriter a(out);
    a(kFormat);
    fields(a, const_cast<RunCheckpoint&>(c));
  }
  return out.str();
}

RunCheckpoint decode_checkpoint(std::string_view bytes) {
  if (bytes.size() < sizeof kMagic || bytes.substr(0, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic))
    throw CheckpointError("not a zhil checkpoint (no ZHILCKPT header)");
  std::istringstream in(std::string(bytes.substr(sizeof kMagic)));
  RunCheckpoint c;
  try {
    StateReader a(in);
    std::uint32_t format = 0;
    a(format);
    if (format != kFormat)
      throw CheckpointError("checkpoint format " + std::to_string(format) + " is not this program's (" +
                            std::to_string(kFormat) + ")");
    fields(a, c);
  } catch (const cereal::Exception& e) {
    throw CheckpointError(std::string("checkpoint is cut short or damaged: ") + e.what());
  }
  return c;
}

}  // namespace zhil
