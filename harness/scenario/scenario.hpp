#pragma once
// A scenario as its YAML file describes it: which station, how long, the seed, a timeline of
// stimuli (grid events, load profiles, device faults) and the checks and measurements that decide
// its verdict. Loading checks everything that can be checked without a station (syntax, units,
// expression syntax); binding to a station's signals happens when the run is set up, and errors
// there still name the scenario file and line.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/config/config_node.hpp"
#include "harness/recording/signal_selection.hpp"
#include "harness/scenario/profile.hpp"
#include "harness/time.hpp"

namespace zhil {

// Sets a stimulus signal "<device>.<suffix>" once (and ends any profile driving it).
struct StimulusStep {
  std::string device;  // empty: the station's only device of `role`
  std::string role;
  std::string suffix;
  double value = 0;
};

// Drives a stimulus signal every cycle from a profile, until replaced.
struct StimulusSource {
  std::string device;
  std::string role;
  std::string suffix;
  ProfileFactory factory;
};

struct TimelineEvent {
  Time at{0};
  std::string where;  // file:line:column
  std::vector<StimulusStep> steps;
  std::vector<StimulusSource> sources;
  std::string clear_faults_of;  // device whose fault.* stimuli all go back to 0
};

enum class CheckKind { always, never, eventually, settles };
const char* to_string(CheckKind k);

struct CheckSpec {
  std::string name;
  CheckKind kind = CheckKind::always;
  std::string expression;  // always / never / eventually
  std::string signal;      // settles
  double value = 0, tolerance = 0;
  std::string unit;            // settles: the unit value and tolerance are in ("" if bare numbers)
  Time from{0};
  std::optional<Time> until;   // default: end of run
  Duration within{0};          // eventually / settles: deadline after `from`
  std::string where;
};

// positive_integral / negative_integral: the integral of the signal's positive part, or of the
// magnitude of its negative part (energy charged, energy discharged, as a meter's import and export
// registers). response: seconds from the window's start until the signal first differs from its
// value there (an alarm raised, a contactor opened). ratio: one measurement's value over another's.
enum class Aggregate { max, min, mean, final, integral, positive_integral, negative_integral, response, ratio };
const char* to_string(Aggregate a);

struct MeasurementSpec {
  std::string name;
  std::string signal;
  Aggregate aggregate = Aggregate::max;
  std::string unit;  // as written; checked against the signal's unit when bound
  std::optional<double> low, high;
  // OpenHTF's marginal band: a value inside the limits but outside these passes, marked marginal.
  std::optional<double> marginal_low, marginal_high;
  std::string ratio_of, ratio_over;  // ratio: the two measurements (by name)
  Time from{0};
  std::optional<Time> until;
  std::string where;
};

// A signal the harness computes from another each cycle: moving mean, or rate of change over a
// window (e.g. the grid-import ramp a utility would measure).
struct DerivedSpec {
  std::string name;
  std::string of;
  enum class Op { mean, rate } op = Op::mean;
  Duration window{std::chrono::seconds(1)};
  std::string where;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string file;
  std::string directory;
  std::string sha256;
  std::string station;  // a name (fixtures/stations/NAME.yaml) or a path relative to the file
  std::string station_where;  // file:line:column of `station:` (the file's start when defaulted)
  Duration duration{0};
  std::string duration_where;  // file:line:column of `duration:`
  std::uint64_t seed = 1;
  std::optional<Duration> cycle;
  std::optional<Duration> record_interval;  // default: every cycle
  std::vector<RecordPattern> record;        // which signals the time series keeps; empty: all
  double start_time_of_day_s = 0;
  ConfigNode core_params;  // overrides of the station's core params
  std::vector<TimelineEvent> timeline;
  std::vector<CheckSpec> checks;
  std::vector<MeasurementSpec> measurements;
  std::vector<DerivedSpec> derived;
  std::vector<std::string> input_files;  // files it read besides itself (CSV traces)
};

// Throws ConfigError naming file:line:column.
Scenario load_scenario(const std::string& path);

// One event's action ({grid: ...}, {load: ...}, {fault: ...} or {set: ...}; its `at` is not read), as a
// timeline entry has it: for a host that acts between cycles (Python's run.inject, run.set). Files a
// profile reads are relative to `directory` and appended to `files`. Throws ConfigError.
TimelineEvent parse_event_action(const ConfigNode& action, const std::string& directory, std::vector<std::string>* files);

}  // namespace zhil
