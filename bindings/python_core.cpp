#include "bindings/python_core.hpp"

#include <csignal>
#include <stdexcept>

namespace zhil::python {

CoreIo& CoreIoView::get() const {
  if (!io) throw std::logic_error("a control core's io is used only inside its configure() and step()");
  return *io;
}

std::string python_traceback(py::error_already_set& e) {
  // traceback.format_exception gives what Python itself prints for an uncaught exception.
  std::string text;
  try {
    py::object fmt = py::module_::import("traceback").attr("format_exception");
    py::object lines = fmt(e.type(), e.value(), e.trace());
    for (py::handle l : lines) text += py::cast<std::string>(l);
  } catch (const std::exception&) {
    text = e.what();
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  e.restore();
  PyErr_Clear();
  return text;
}

PythonCore::PythonCore(py::object core) : core_(std::move(core)) {
  py::gil_scoped_acquire gil;
  step_ = core_.attr("step");
  io_view_ = py::cast(CoreIoView{}, py::return_value_policy::move);
  view_ = io_view_.cast<CoreIoView*>();
}

PythonCore::~PythonCore() {
  py::gil_scoped_acquire gil;
  step_ = py::object();
  io_view_ = py::object();
  core_ = py::object();
}

std::string PythonCore::name() const {
  py::gil_scoped_acquire gil;
  py::handle cls = py::type::handle_of(core_);
  return "python:" + py::cast<std::string>(cls.attr("__module__")) + "." + py::cast<std::string>(cls.attr("__qualname__"));
}

void PythonCore::configure(const CoreContext& context, CoreIo& io) {
  py::gil_scoped_acquire gil;
  view_->io = &io;
  try {
    CoreContextView ctx{std::make_shared<const StationConfig>(context.station), context.params,
                        to_seconds(context.cycle), context.start_time_of_day_s, context.real_time};
    core_.attr("configure")(py::cast(std::move(ctx)), io_view_);
  } catch (py::error_already_set& e) {
    view_->io = nullptr;
    // configure() is where a core refuses its parameters: the message is the error (a ConfigError
    // from params keeps its file:line:column), the traceback follows it.
    throw std::runtime_error("Python control core " + name() + ": configure() raised:\n" + python_traceback(e));
  }
  view_->io = nullptr;
}

void PythonCore::step(Time now, CoreIo& io) {
  py::gil_scoped_acquire gil;
  view_->io = &io;
  try {
    step_(to_seconds(now), io_view_);
  } catch (py::error_already_set& e) {
    view_->io = nullptr;
    if (e.matches(PyExc_KeyboardInterrupt)) {
      // A Ctrl-C that reached Python's handler just before the run took the signals: it is the
      // operator's stop, not the core's error. Sent again, the run takes it (ABORTED) and hands it
      // back to Python once the bench is safe.
      e.restore();
      PyErr_Clear();
      std::raise(SIGINT);
      return;
    }
    throw std::runtime_error("Python control core " + name() + ": step() raised:\n" + python_traceback(e));
  }
  view_->io = nullptr;
}

}  // namespace zhil::python
