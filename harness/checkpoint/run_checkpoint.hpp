#pragma once
// A checkpoint of a run: what the run is (enough for `zhil resume` to build it again from the same
// files) and the state of every part of it after one cycle, taken at the interval the run was
// given (RunOptions::checkpoint_every) and handed to the sinks (a results store keeps it).
//
// Resuming a simulated run from a checkpoint gives the same bytes as the run that was never
// interrupted: the plant, the devices, the core, the timeline and its profiles, the checks,
// measurements, derived signals and the envelope continue from exactly the numbers they had, and
// time series rows continue from the byte the checkpoint names. A real-time run resumes with its
// devices activated again from their safe state; only the harness's and simulators' state are
// taken back.
//
// Encoded as a magic word, a format number and cereal's portable binary; a checkpoint of another
// format, another program version or another scenario or station file is refused, never loaded.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/time.hpp"

namespace zhil {

struct RunCheckpoint {
  // What the run is: the same in every checkpoint of a run.
  std::string software_version;
  std::string run_id;
  std::string started_utc;
  std::string scenario_file, scenario_sha256;  // absolute, as the run loaded it
  std::string station_file, station_sha256;
  std::uint64_t seed = 0;
  bool real_time = false;
  std::string out_dir;   // absolute
  std::string core_name;  // empty: the station's core
  std::string dut_serial;
  std::vector<std::pair<std::string, std::string>> metadata;
  Duration every{0};
  std::vector<std::pair<std::string, std::string>> inputs;  // every file it read, with its SHA-256 (the record's)

  // Where the run was: after the cycle due at `at`.
  std::uint64_t sequence = 0;  // 1, 2, ... within the run (and its resumptions)
  Time at{0};
  std::uint64_t cycles = 0;
  std::uint64_t timeseries_bytes = 0;  // timeseries.csv up to this checkpoint's last row, header included
  std::uint64_t timeseries_rows = 0;
  std::uint64_t events = 0;            // events noted so far (kept and dropped)
  std::uint32_t resumptions = 0;       // how often the run has been resumed before
  std::string state;                   // the parts' state (StateWriter bytes)
};

std::string encode_checkpoint(const RunCheckpoint& c);
// Throws CheckpointError (state_archive.hpp) for bytes that are not a checkpoint of this format.
RunCheckpoint decode_checkpoint(std::string_view bytes);

}  // namespace zhil
