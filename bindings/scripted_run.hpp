#pragma once
// One run driven from Python: zhil.run() makes one, the `with` block and run.step() / until() /
// run_to_end() drive it. It wires the run as `zhil run` does (lab/run_preparation), then:
//   - the loop runs without the GIL (a Python core takes it for its own step only);
//   - terminating signals are caught while the loop runs (and while the devices start), and go to
//     Python's own handlers between calls (Ctrl-C in the script raises KeyboardInterrupt there, and
//     the `with` block's exit makes the bench safe); one caught inside the loop stops the run, the
//     bench is made safe and the record written, then the signal is given back to the
//     interpreter's handler (Ctrl-C: KeyboardInterrupt);
//   - one call at a time: another thread (or the run's own Python core) calling in while the loop
//     runs is refused with zhil.RunError;
//   - once finished, the run lets go of its results folder, bench and core; its signals' last
//     values, its record and its time series stay;
//   - a run that ends is finished at once (safe state, record), and one that ends as ERROR raises
//     the matching Python exception (zhil.DeviceError, zhil.ControlCoreError, zhil.RunError).
#include <pybind11/pybind11.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/row_buffer.hpp"
#include "harness/recording/output_folder.hpp"
#include "lab/reports/live_view.hpp"
#include "lab/run_preparation.hpp"

namespace zhil::python {

namespace py = pybind11;

struct RunRequest {
  std::shared_ptr<const Scenario> scenario;
  // A scenario built in Python: its YAML, written into the results folder as scenario.yaml and run
  // from there, so that the record names a file that stays with the results.
  std::string scenario_text;
  std::string station_file;  // empty: the scenario's
  py::object core;           // None: the station's; a str: a registered core; else a zhil.ControlCore
  std::optional<std::uint64_t> seed;
  bool real_time = false;
  std::string out;           // empty: results/<scenario>-<UTC time> under the working directory
  bool overwrite = false;
  std::string dut_serial;
  std::string results_db;    // the results store the run goes into; empty: none
  std::string serve, serve_token;  // the live view (ADDRESS:PORT); empty: none
  bool show_progress = false;
  std::uint64_t max_memory_bytes = 4ull << 30;
  std::uint64_t max_output_bytes = 4ull << 30;
};

class ScriptedRun {
 public:
  // Prepares (every name bound; errors raise zhil.ScenarioError / StationError...), claims the
  // results folder and sets the run up: devices activated, time 0.
  explicit ScriptedRun(RunRequest request);
  std::string live_url() const { return live_ ? live_->url() : ""; }
  ~ScriptedRun();

  bool step(bool catch_signals);
  bool until(double t_s, bool catch_signals);
  void run_to_end(bool catch_signals);
  // Ends the run now: the safe state, then the record. If the script left the `with` block by an
  // exception, `why` says which (the run is ERROR; KeyboardInterrupt: ABORTED).
  void finish(const std::string& verdict, const std::string& why);

  void act(const std::string& yaml_text, const std::string& origin, const std::string& what);
  void set_command(const std::string& name, double value);

  double time() const;  // the last completed cycle's, s
  bool ended() const;
  bool finished() const { return finished_; }
  std::uint64_t cycles() const;
  std::string out_dir() const;
  py::tuple signal(const std::string& name) const;  // (value, unit, quality, kind)
  py::list names() const;
  py::object record_json() const;  // None until finished
  std::string stop_cause() const;
  std::string core_name() const { return core_name_; }
  const RowBuffer& rows() const {
    check_idle("timeseries");
    return *rows_;
  }

 private:
  bool drive(const std::function<bool()>& body, bool catch_signals);
  void after_end();
  void end_run();
  void end_run_without_gil();
  void check_idle(const char* what) const;
  struct FinalSignal {
    std::string name;
    double value;
    std::string unit, quality, kind, owner;
  };
  bool busy_ = false;  // a call is driving the loop (without the GIL): other calls are refused
  std::vector<FinalSignal> final_;
  int caught_signal_ = 0;
  double last_time_ = 0;
  std::uint64_t cycles_ = 0;
  std::string out_dir_, station_name_, scenario_file_;
  void abandon_folder();
  bool created_folder_ = false;
  std::unique_ptr<lab::PreparedRun> prepared_;
  std::shared_ptr<RowBuffer> rows_;
  std::shared_ptr<lab::LiveViewServer> live_;  // serve=: the live view (its sink in the run shares it)
  std::shared_ptr<OutputFolder> folder_;
  std::string core_name_;
  bool finished_ = false;
  bool raised_ = false;
  RunResult result_;
};

// Raises the zhil.errors class `cls` with `message` (throws py::error_already_set).
[[noreturn]] void raise_python(const char* cls, const std::string& message);
// The zhil.errors class for an error found while loading or binding: ScenarioError when it names
// the scenario file, StationError for the station and its fixtures, DeviceError, ControlCoreError.
const char* error_class_for(const std::string& message, const std::string& scenario_file);

}  // namespace zhil::python
