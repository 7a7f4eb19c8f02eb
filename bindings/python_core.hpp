#pragma once
// A control core written in Python, in the loop as a C++ core is: the run calls configure() and
// step() on the loop thread, and this adapter takes the GIL only for the Python call (the loop runs
// without it, so other Python threads go on). An exception in Python is turned into a C++ error
// that carries the Python traceback: the run ends as ERROR with it in the record and the bench goes
// to its safe state.
#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "harness/config/station_config.hpp"

#include "harness/control_core.hpp"

namespace zhil::python {

namespace py = pybind11;

// What a Python core's configure() and step() get as `io`: CoreIo by signal id (ids are resolved
// once, in configure, so that a step does no lookups).
class CoreIoView {
 public:
  CoreIo* io = nullptr;  // valid during configure() and step() only
  CoreIo& get() const;
};

// What a Python core's configure() gets as `context`: its own copies, so that a core that keeps it
// never holds a reference into a run that has gone.
struct CoreContextView {
  std::shared_ptr<const StationConfig> station;
  LayeredConfig params;
  double cycle_s = 0;
  double start_time_of_day_s = 0;
  bool real_time = false;
};

class PythonCore final : public ControlCore {
 public:
  // `core`: an instance of a zhil.ControlCore subclass.
  explicit PythonCore(py::object core);
  ~PythonCore() override;
  void configure(const CoreContext& context, CoreIo& io) override;
  void step(Time now, CoreIo& io) override;
  std::string name() const;  // "python:<module>.<class>", for the record

 private:
  py::object core_;
  py::object step_;  // the bound method, looked up once
  py::object io_view_;
  CoreIoView* view_ = nullptr;
};

// "TypeError: ...\n  File ..., line N, in step\n" for the Python error being handled; clears it.
std::string python_traceback(py::error_already_set& e);

}  // namespace zhil::python
