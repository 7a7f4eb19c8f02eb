#pragma once
// One run of a scenario on a station, as an object that a host drives (the zhil CLI, a test, later
// Python):
//
//   Run run(station, scenario, bench, core, options);
//   run.prepare();          bind the scenario to the station: every name resolved, every window
//                           and unit checked; no file written, no device touched (zhil validate
//                           stops here, and zhil run creates nothing before it passes)
//   run.setup();            configure devices, bind scenario, core, envelope, checks; start sinks;
//                           activate the devices
//   run.step();             one cycle; run.until(t): cycles up to simulated time t
//   run.request_stop(...);  no further cycle starts (Ctrl-C and SIGTERM do this too)
//   run.finish();           safe state, commanded and verified, then the record, through the sinks
//
// run_to_end() is setup, step() until the end, finish(); execute_run() is that in one call.
//
// A cycle is a sequence of asynchronous phases on the run's clock (see README, "How a run works"):
//   acquire (every device's read started at once, collected against each device's deadline)
//   -> stimuli from profiles -> control core -> safety envelope
//   -> write (every device's commands, likewise) -> checks, measurements, sinks.
// Timeline events are timers of their own between cycles. In simulated time the clock jumps from
// event to event and stands still while held I/O is in flight; the same scenario, station and seed
// give the same bytes.
//
// The run's state lives in plain members (signal table, device health, timeline position, timers
// by time), so that a later issue can checkpoint it.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/bench.hpp"
#include "harness/checkpoint/run_checkpoint.hpp"
#include "harness/clock.hpp"
#include "harness/config/station_config.hpp"
#include "harness/control_core.hpp"
#include "harness/recording/output_folder.hpp"
#include "harness/recording/test_record.hpp"
#include "harness/run_sink.hpp"
#include "harness/scenario/scenario.hpp"

namespace zhil {

struct RunOptions {
  bool real_time = false;
  std::uint64_t seed = 1;
  std::string out_dir;
  // The results folder, already claimed by the host (a suite claims its scenarios' folders). If
  // empty, setup() claims out_dir itself; overwrite lets it replace an earlier run's results.
  std::shared_ptr<OutputFolder> output;
  bool overwrite = false;
  // Files named in the record (station, scenario, inputs) are written relative to this folder (the
  // project root) when they are inside it, so records from two checkouts compare; else as given.
  std::string path_base;
  // Terminating signals (SIGINT, SIGTERM, SIGHUP...) abort the run (off in tests that run in-process).
  bool handle_signals = true;
  // A signal the host caught before the run took over (0 if none): the run aborts before its first cycle.
  std::function<int()> pending_signal;
  bool show_progress = false;   // simulated time, speed and ETA on stderr
  std::function<void(const std::string&)> on_started;  // called once the first cycle is scheduled
  // Test hook: called after every cycle with the table, e.g. to check what devices received.
  std::function<void(Time, const SignalTable&)> after_cycle;
  // Simulated time: how long held I/O may go unanswered (wall time) before the run is an ERROR.
  std::chrono::milliseconds stall_limit{10000};
  // The core's name in the record when the host gives the run a core of its own (a Python core);
  // empty: the station's `core:`.
  std::string core_name;
  std::string dut_serial;  // the serial the operator says is under test, for the record
  std::vector<std::pair<std::string, std::string>> metadata;  // for the record (TestRecord::metadata)
  // Checkpoints: after the first cycle at or past each multiple of this (0: none), the run's state
  // goes to every sink (RunSink::on_checkpoint). A run with checkpoints needs a core that can save
  // its state and, in simulated time, a bench whose every device and plant can (in-process
  // simulators); refused in prepare() otherwise.
  Duration checkpoint_every{0};
  // Continue the run of this checkpoint instead of starting one: same run id, same results folder
  // (reopened unless `output` is given), its time series cut back to the checkpoint and continued.
  // The station and scenario must be the files the checkpoint names, unchanged.
  std::shared_ptr<const RunCheckpoint> resume;
};

// Why a run stopped before its end, for a host that reports it in its own terms (Python raises
// zhil.DeviceError for a lost device, zhil.ControlCoreError for a core that threw).
enum class StopCause {
  none,       // it ran to its end (or has not stopped)
  device,     // a device was lost (its failures lasted fault_after)
  core,       // the control core threw
  signal,     // a terminating signal (Ctrl-C, SIGTERM)
  host,       // the host asked (request_stop), or finished it early
  error,      // anything else: a sink, the simulation, an exception in the harness, a failed setup
};
const char* to_string(StopCause c);

struct RunResult {
  Verdict verdict = Verdict::error;
  std::string error;
  std::string record_path;  // empty when no record could be written (see record_written)
  bool record_written = false;
  StopCause cause = StopCause::none;
  TestRecord record;
};

class Run {
 public:
  Run(const StationConfig& station, const Scenario& scenario, Bench& bench, std::unique_ptr<ControlCore> core,
      RunOptions options);
  ~Run();  // finishes the run (safe state, record) if the host did not
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // Before setup(): a further sink (results store, live view); it is called after the time series
  // and before the record writer.
  void add_sink(std::shared_ptr<RunSink> sink);
  // Before setup(): the results folder, claimed by the host once prepare() passed.
  void set_output(std::shared_ptr<OutputFolder> folder);

  // Binds scenario, station, core and devices' signals (devices configure, nothing is activated,
  // no file is written). An error names the file and line it came from. setup() calls it if the
  // host did not.
  Status prepare();
  // False if the run could not start; finish() then records why (verdict ERROR), in the results
  // folder if it could be claimed.
  bool setup();
  // Runs one cycle (and the timeline events before it). False once the run has ended: completed,
  // stopped, or failed.
  bool step();
  // Cycles up to and including simulated time t. False once the run has ended.
  bool until(Time t);
  // On the loop thread: no further cycle starts; the cycle in flight completes.
  void request_stop(Verdict verdict, const std::string& why, StopCause cause = StopCause::host);

  // Between cycles, for a host that scripts the run (Python): an event's action (parse_event_action)
  // applied now, as the scenario's timeline would, and noted in the record's events as `what`.
  // An error (unknown device, not a stimulus) names `event.where` and changes nothing.
  Status act(const TimelineEvent& event, const std::string& what);
  // Between cycles: a command signal written as the core would write it (the envelope bounds it in
  // the next cycle, and the core may overwrite it in its next step); noted in the record's events.
  Status set_command(const std::string& name, double value);
  // With RunOptions::handle_signals, terminating signals (Ctrl-C...) are caught from setup to
  // finish and stop the run as ABORTED. A host that drives the run in calls (Python) turns that
  // off between its calls (`on` false): signals then reach its own handlers, and one that came
  // while the loop was not reading is acted on now.
  void catch_signals(bool on);
  int caught_signal() const;  // the first signal caught (0: none)
  // Safe state, verified; then every sink's on_finished, the record last. Idempotent.
  RunResult finish();
  RunResult run_to_end();

  bool ended() const;
  Time now() const;                  // the clock's time
  Time last_cycle_time() const;      // the nominal time of the last completed cycle
  std::uint64_t cycles() const;
  SignalTable& signals();
  Clock& clock();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

RunResult execute_run(const StationConfig& station, const Scenario& scenario, Bench& bench,
                      std::unique_ptr<ControlCore> core, const RunOptions& options);

}  // namespace zhil
