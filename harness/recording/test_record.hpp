#pragma once
// One test record per run (OpenHTF style): station and DUT identities, scenario and its SHA-256,
// software version, seed, verdict, every check with its evidence, every measurement with unit,
// limits and verdict, and the safe-state report. Everything that differs between two identical
// simulated runs (run id, wall-clock times, real-time jitter) lives under the one "run" key.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/recording/output_folder.hpp"
#include "harness/run_sink.hpp"
#include "harness/scenario/check.hpp"
#include "harness/scenario/measurement.hpp"
#include "harness/verdict.hpp"

namespace zhil {

struct DeviceRecord {
  std::string name, role, model, link, identity, state;
  double watchdog_s = 0;  // the device-side watchdog its driver armed; 0: none
  std::vector<std::pair<std::string, std::uint64_t>> io;  // its link's counters (Modbus, CAN), by kind
};

struct SafeStateRecord {
  std::string device;
  bool commanded = false;
  bool verified = false;
  std::string detail;
};

struct RunEvent {
  double t_s;
  std::string what;
};

struct TestRecord {
  // "run": not reproducible by design
  std::string run_id;
  std::string started_utc, ended_utc;
  double wall_seconds = 0;
  double speed_x = 0;
  bool real_time = false;
  std::uint64_t rt_skipped = 0;
  std::string rt_tuning;  // what RealTimeTuning managed
  double rt_p50_us = 0, rt_p99_us = 0, rt_max_us = 0, rt_max_work_us = 0;
  double rt_completion_p50_us = 0, rt_completion_p99_us = 0, rt_completion_max_us = 0;

  // reproducible
  Verdict verdict = Verdict::error;
  std::string error;
  std::string software_version;
  std::string station_name, station_file, station_sha256;
  std::string scenario_name, scenario_file, scenario_sha256;
  std::string core;
  std::string dut_serial;  // as the operator gave it; empty: not given
  // What the host says of the run, in its own words (OpenHTF's metadata): the acceptance gate's
  // product, limit set, its version and SHA-256.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::uint64_t seed = 0;
  double cycle_s = 0, duration_s = 0, end_s = 0;
  std::uint64_t cycles = 0;
  std::uint64_t overruns = 0;          // cycles that ended after the next one was due
  std::uint64_t late_device_io = 0;    // device reads and writes that missed their deadline
  std::uint64_t envelope_interventions = 0;
  std::vector<DeviceRecord> devices;
  std::vector<CheckResult> checks;
  std::vector<MeasurementResult> measurements;
  std::vector<SafeStateRecord> safe_state;
  std::vector<RunEvent> events;
  std::uint64_t events_dropped = 0;
  std::uint32_t resumptions = 0;  // zhil resume continued this run this often (from its checkpoints)
  std::vector<std::pair<std::string, std::string>> inputs;  // every file the run read, with its SHA-256
  std::string timeseries_file;
  std::uint64_t timeseries_rows = 0;
  std::size_t timeseries_columns = 0;
};

// Now, as records write times: 2026-11-26T19:13:06Z (also the results store's).
std::string utc_timestamp();

// The texts of record.json and junit.xml. A record of a run still going (`running`) has the
// verdict RUNNING: that is what a run killed outright (SIGKILL, power loss) leaves.
std::string record_json_text(const TestRecord& r, bool running = false);
std::string junit_xml_text(const TestRecord& r);

// record.json and junit.xml in the run's folder, as the last sink of a run. Each is replaced
// atomically (OutputFolder::replace), so a reader never sees half a record.
class RecordWriter final : public RunSink {
 public:
  explicit RecordWriter(std::shared_ptr<const OutputFolder> folder) : folder_(std::move(folder)) {}
  // When the run starts: a record that says RUNNING, replaced at the end.
  Status write_running(const TestRecord& record);
  Status on_finished(TestRecord& record) override;
  std::string record_path() const { return folder_->file("record.json"); }
  bool written() const { return written_; }  // the final record is on disk

 private:
  std::shared_ptr<const OutputFolder> folder_;
  bool written_ = false;
};

}  // namespace zhil
