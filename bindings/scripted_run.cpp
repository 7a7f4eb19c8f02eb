#include "bindings/scripted_run.hpp"

#include <csignal>
#include <filesystem>
#include <cctype>
#include <cmath>

#include <yaml-cpp/yaml.h>

#include "bindings/python_core.hpp"
#include "harness/config/config_error.hpp"
#include "harness/config/config_node.hpp"
#include "harness/host_signals.hpp"
#include "harness/recording/test_record.hpp"
#include "lab/project_paths.hpp"
#include "lab/reports/live_view.hpp"
#include "lab/results/results_sink.hpp"
#include "lab/scenario_runner.hpp"

namespace zhil::python {

void raise_python(const char* cls, const std::string& message) {
  py::object type = py::module_::import("zhil.errors").attr(cls);
  PyErr_SetObject(type.ptr(), py::str(message).ptr());
  throw py::error_already_set();
}

namespace {

// The length of "file:line:column" at the start of `m` (0 if it does not start so), and of
// ":line:column" at `from`.
std::size_t position_length(const std::string& m, std::size_t from) {
  std::size_t i = from;
  for (int part = 0; part < 2; ++part) {
    if (i >= m.size() || m[i] != ':') return 0;
    const std::size_t digits = ++i;
    while (i < m.size() && std::isdigit(static_cast<unsigned char>(m[i]))) ++i;
    if (i == digits) return 0;
  }
  return i - from;
}

std::size_t located_length(const std::string& m) {
  const std::size_t colon = m.find(':');
  if (colon == 0 || colon == std::string::npos || m.find_first_of(" \n") < colon) return 0;
  const std::size_t n = position_length(m, colon);
  return n > 0 && m.compare(colon + n, 2, ": ") == 0 ? colon + n : 0;
}

}  // namespace

const char* error_class_for(const std::string& message, const std::string& scenario_file) {
  if (!scenario_file.empty() && message.rfind(scenario_file + ":", 0) == 0) return "ScenarioError";
  if (message.find("Python control core") != std::string::npos) return "ControlCoreError";
  if (message.rfind("device ", 0) == 0 || message.rfind("device lost", 0) == 0) return "DeviceError";
  if (located_length(message) > 0) {
    // Located in another file: the station's, or a fixture it names; a device's own error still
    // reads "file:line:col: device NAME: ...".
    if (message.find(": device ") != std::string::npos) return "DeviceError";
    return "StationError";
  }
  return "RunError";
}

namespace {

// Marks the run busy while a call runs the loop without the GIL (check_idle refuses other calls).
struct Busy {
  explicit Busy(bool& flag) : flag_(flag) { flag_ = true; }
  ~Busy() { flag_ = false; }
  bool& flag_;
};

Verdict verdict_of(const std::string& v) {
  if (v == "ABORTED") return Verdict::aborted;
  if (v == "FAIL") return Verdict::fail;
  if (v == "PASS") return Verdict::pass;
  return Verdict::error;
}

}  // namespace

ScriptedRun::ScriptedRun(RunRequest rq) {
  lab::PrepareRequest pr;
  pr.station_file = rq.station_file;
  pr.seed = rq.seed;
  pr.limits.max_memory_bytes = rq.max_memory_bytes;
  pr.limits.max_output_bytes = rq.max_output_bytes;
  pr.options.real_time = rq.real_time;
  pr.options.path_base = lab::find_project_root();
  pr.options.handle_signals = true;  // from setup; the host's own between calls (see the header)
  pr.options.show_progress = rq.show_progress;
  pr.options.dut_serial = rq.dut_serial;
  if (py::isinstance<py::str>(rq.core)) {
    const std::string name = py::cast<std::string>(rq.core);
    if (!CoreRegistry::instance().create(name)) {
      std::string known;
      for (const auto& n : CoreRegistry::instance().names()) known += (known.empty() ? "" : ", ") + n;
      raise_python("ControlCoreError", "unknown control core '" + name + "' (known: " + known + ")");
    }
    pr.core = [name] { return CoreRegistry::instance().create(name); };
    core_name_ = pr.options.core_name = name;
  } else if (!rq.core.is_none()) {
    py::object core = rq.core;
    core_name_ = pr.options.core_name = PythonCore(core).name();
    pr.core = [core] { return std::make_unique<PythonCore>(core); };
  }
  // The results store, opened before anything is claimed: one that cannot be opened stops here.
  std::shared_ptr<lab::ResultsSink> results;
  if (!rq.results_db.empty()) {
    lab::RunContext ctx;
    ctx.kind = "python";
    if (!rq.dut_serial.empty()) ctx.duts.push_back({rq.dut_serial, "", ""});
    try {
      results = std::make_shared<lab::ResultsSink>(rq.results_db, ctx);
    } catch (const std::exception& e) {
      raise_python("ResultsStoreError", e.what());
    }
  }
  auto claim = [&] {
    namespace fs = std::filesystem;
    std::error_code ec;
    created_folder_ = rq.out.empty() || !fs::exists(rq.out, ec);
    try {
      folder_ = rq.out.empty() ? lab::claim_new_folder("results/" + rq.scenario->name + "-" + lab::utc_stamp())
                               : OutputFolder::claim(rq.out, rq.overwrite);
    } catch (const std::exception& e) {
      raise_python("ResultsFolderError", e.what());
    }
  };
  // Bound first, before the results folder is claimed: a scenario (or core) that cannot run leaves
  // an earlier run's results there untouched, even with overwrite.
  try {
    prepared_ = lab::prepare_scenario(*rq.scenario, pr);
  } catch (const std::exception& e) {
    raise_python(error_class_for(e.what(), rq.scenario->file), e.what());
  }
  if (!rq.scenario_text.empty()) {
    // A scenario built in Python runs from its scenario.yaml in the results folder, so that the
    // record names a file kept with it: bound again from there (a core's configure() runs twice).
    prepared_.reset();
    claim();
    try {
      if (Status s = folder_->replace("scenario.yaml", rq.scenario_text); !s) throw std::runtime_error(s.message());
      prepared_ = lab::prepare_scenario(load_scenario(folder_->file("scenario.yaml")), pr);
    } catch (const std::exception& e) {
      const char* cls = error_class_for(e.what(), folder_->file("scenario.yaml"));
      abandon_folder();
      raise_python(cls, e.what());
    }
  } else {
    claim();
  }
  if (core_name_.empty()) core_name_ = prepared_->station.core;
  out_dir_ = folder_->path();
  station_name_ = prepared_->station.name;
  scenario_file_ = prepared_->scenario.file;
  Run& run = *prepared_->run;
  rows_ = std::make_shared<RowBuffer>(prepared_->scenario.record, 1ull << 30);
  run.add_sink(rows_);
  if (results) run.add_sink(results);
  if (!rq.serve.empty()) {
    try {
      live_ = lab::serve_live_view(rq.serve, rq.serve_token);
    } catch (const std::exception& e) {
      abandon_folder();
      throw std::invalid_argument(e.what());
    }
    run.add_sink(std::make_shared<lab::LiveViewSink>(live_, &prepared_->scenario, std::vector<std::string>{}));
  }
  run.set_output(folder_);
  bool ok = false;
  {
    py::gil_scoped_release nogil;
    ok = run.setup();  // a Ctrl-C while the devices start stops the run too
    run.catch_signals(false);
  }
  if (!ok || run.ended()) after_end();
}

void ScriptedRun::abandon_folder() {
  // A run that could not start leaves nothing behind: its scenario.yaml and the folder it created.
  if (!folder_) return;
  const std::string path = folder_->path();
  std::error_code ec;
  std::filesystem::remove(folder_->file("scenario.yaml"), ec);
  folder_.reset();
  if (created_folder_) std::filesystem::remove(path, ec);  // only if empty
}

ScriptedRun::~ScriptedRun() {
  if (!prepared_) return;
  busy_ = true;
  py::gil_scoped_release nogil;
  if (!finished_) {
    prepared_->run->catch_signals(true);
    prepared_->run->finish();
  }
  prepared_.reset();
}

void ScriptedRun::end_run() {
  // Without the GIL. The run is finished (safe state, record); then what Python may still ask
  // (signals, time) is kept and the rest let go: the results folder's lock (the next run may use
  // it), the bench and its connections, the core.
  Run& run = *prepared_->run;
  // The safe state is made with the signals taken by the run: none can end the process meanwhile.
  run.catch_signals(true);
  result_ = run.finish();
  caught_signal_ = run.caught_signal();
  last_time_ = to_seconds(run.last_cycle_time());
  cycles_ = run.cycles();
  const SignalTable& t = run.signals();
  final_.clear();
  for (SignalId id = 0; id < t.size(); ++id) {
    const SignalInfo& info = t.info(id);
    final_.push_back({info.name, t.value(id), info.unit, to_string(t.quality(id)), to_string(info.kind), info.owner});
  }
  prepared_.reset();
  folder_.reset();
  finished_ = true;  // last: what a finished run answers from is all there
}

// The GIL is let go while the run ends; the run is marked busy first, so that another thread
// cannot call in meanwhile.
void ScriptedRun::end_run_without_gil() {
  Busy busy(busy_);
  py::gil_scoped_release nogil;
  end_run();
}

void ScriptedRun::check_idle(const char* what) const {
  if (busy_)
    raise_python("RunError", std::string(what) + ": the run is busy in another call (another thread, or its own "
                 "control core): one call at a time");
}

bool ScriptedRun::drive(const std::function<bool()>& body, bool catch_signals) {
  check_idle("step");
  if (finished_) return false;
  Run& run = *prepared_->run;
  bool more = false;
  {
    Busy busy(busy_);
    py::gil_scoped_release nogil;
    if (catch_signals) run.catch_signals(true);
    try {
      more = body();
    } catch (...) {
      run.catch_signals(false);
      throw;
    }
    run.catch_signals(false);  // a signal the loop had not read yet stops the run now
  }
  if (!more || run.ended()) {
    after_end();
    return false;
  }
  return true;
}

void ScriptedRun::after_end() {
  if (!finished_) end_run_without_gil();
  if (raised_) return;
  raised_ = true;
  if (const int sig = caught_signal_; sig != 0) {
    // The bench is safe and the record written: the signal goes to the interpreter's own handler
    // now (put back when the loop stopped), as if it had come just now. Ctrl-C: KeyboardInterrupt.
    send_to_host(sig);
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    return;
  }
  if (result_.verdict != Verdict::error) return;
  std::string message = result_.error;
  if (!result_.record_path.empty()) message += "\n(record: " + result_.record_path + ")";
  switch (result_.cause) {
    case StopCause::device: raise_python("DeviceError", message);
    case StopCause::core: raise_python("ControlCoreError", message);
    default: raise_python(error_class_for(result_.error, scenario_file_), message);
  }
}

bool ScriptedRun::step(bool catch_signals) {
  return drive([this] { return prepared_->run->step(); }, catch_signals);
}

bool ScriptedRun::until(double t_s, bool catch_signals) {
  if (!std::isfinite(t_s)) raise_python("RunError", "until: the time must be a finite number of seconds");
  t_s = std::min(t_s, 400.0 * 86400);  // beyond any scenario (a year at most); no overflow in the conversion
  const Time t = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(t_s));
  return drive([this, t] { return prepared_->run->until(t); }, catch_signals);
}

void ScriptedRun::run_to_end(bool catch_signals) {
  drive(
      [this] {
        while (prepared_->run->step()) {
        }
        return false;
      },
      catch_signals);
}

void ScriptedRun::finish(const std::string& verdict, const std::string& why) {
  check_idle("finish");
  if (finished_) return;
  Run& run = *prepared_->run;
  if (!why.empty() && !run.ended())
    run.request_stop(verdict_of(verdict), why, verdict == "ABORTED" ? StopCause::signal : StopCause::host);
  const int before = run.caught_signal();
  end_run_without_gil();
  raised_ = true;  // the script's own exception is the one that propagates
  // A signal that came while the bench was made safe goes to Python's handler now.
  if (caught_signal_ != 0 && before == 0) send_to_host(caught_signal_);
}

void ScriptedRun::act(const std::string& yaml_text, const std::string& origin, const std::string& what) {
  check_idle("act");
  if (finished_) raise_python("RunError", origin + ": the run has ended; nothing more can be done to it");
  auto strip = [&origin](std::string m) {
    // The action's YAML is one line written here: "origin:1:12: ..." reads "origin: ..." for the user.
    if (m.rfind(origin, 0) == 0) m.erase(origin.size(), position_length(m, origin.size()));
    return m;
  };
  TimelineEvent ev;
  try {
    ConfigNode node(YAML::Load(yaml_text), std::make_shared<const std::string>(origin), "");
    ev = parse_event_action(node, prepared_->scenario.directory, nullptr);
  } catch (const std::exception& e) {
    raise_python("ScenarioError", strip(e.what()));
  }
  if (Status s = prepared_->run->act(ev, what); !s) raise_python("ScenarioError", strip(s.message()));
}

void ScriptedRun::set_command(const std::string& name, double value) {
  check_idle("set");
  if (finished_) raise_python("RunError", "set " + name + ": the run has ended; nothing more can be done to it");
  if (Status s = prepared_->run->set_command(name, value); !s) raise_python("SignalError", s.message());
}

double ScriptedRun::time() const { return finished_ ? last_time_ : to_seconds(prepared_->run->last_cycle_time()); }
bool ScriptedRun::ended() const { return finished_ || prepared_->run->ended(); }
std::uint64_t ScriptedRun::cycles() const { return finished_ ? cycles_ : prepared_->run->cycles(); }
std::string ScriptedRun::out_dir() const { return out_dir_; }

py::tuple ScriptedRun::signal(const std::string& name) const {
  check_idle("signal");
  if (finished_) {
    // The values the run ended with.
    for (const FinalSignal& f : final_)
      if (f.name == name) return py::make_tuple(f.value, f.unit, f.quality, f.kind, f.owner);
    raise_python("SignalError", "no signal '" + name + "' on station " + station_name_);
  }
  const SignalTable& t = prepared_->run->signals();
  const SignalId id = t.find(name);
  if (id == kNoSignal) raise_python("SignalError", "no signal '" + name + "' on station " + station_name_);
  const SignalInfo& info = t.info(id);
  return py::make_tuple(t.value(id), info.unit, to_string(t.quality(id)), to_string(info.kind), info.owner);
}

py::list ScriptedRun::names() const {
  check_idle("names");
  py::list out;
  if (finished_) {
    for (const FinalSignal& f : final_) out.append(f.name);
    return out;
  }
  const SignalTable& t = prepared_->run->signals();
  for (SignalId id = 0; id < t.size(); ++id) out.append(t.info(id).name);
  return out;
}

py::object ScriptedRun::record_json() const {
  check_idle("record");
  if (!finished_) return py::none();
  return py::str(record_json_text(result_.record));
}

std::string ScriptedRun::stop_cause() const { return to_string(result_.cause); }

}  // namespace zhil::python
