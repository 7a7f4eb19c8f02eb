// The `zhil._zhil` extension module: the C++ side of the `zhil` Python package. The package's
// Python files (bindings/python/zhil/) give it the API test engineers use (zhil.run, zhil.Scenario,
// zhil.ControlCore, the pytest plugin); this file binds what they stand on.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>

#include "bindings/python_core.hpp"
#include "bindings/scripted_run.hpp"
#include "harness/config/config_error.hpp"
#include "harness/config/config_node.hpp"
#include "harness/config/station_config.hpp"
#include "harness/scenario/scenario.hpp"
#include "lab/project_paths.hpp"

namespace py = pybind11;
using namespace zhil;
using namespace zhil::python;

namespace {

bool is_simulator(const DeviceConfig& d) { return is_simulator_model(d.model); }

py::dict device_dict(const DeviceConfig& d) {
  py::dict x;
  x["name"] = d.name;
  x["role"] = d.role;
  x["model"] = d.model;
  x["link"] = d.link_type;
  x["packs"] = d.packs;
  x["simulated"] = is_simulator(d);
  return x;
}

std::shared_ptr<const StationConfig> load_station_or_raise(const std::string& path) {
  try {
    return std::make_shared<const StationConfig>(load_station(path));
  } catch (const std::exception& e) {
    raise_python("StationError", e.what());
  }
}

std::shared_ptr<const Scenario> load_scenario_or_raise(const std::string& path) {
  try {
    return std::make_shared<const Scenario>(load_scenario(path));
  } catch (const std::exception& e) {
    raise_python("ScenarioError", e.what());
  }
}

// A parameter's error as Python's zhil.ConfigError, with its file:line:column.
template <class F>
auto config_error_as_python(F&& f) {
  try {
    return f();
  } catch (const ConfigError& e) {
    raise_python("ConfigError", e.what());
  }
}

}  // namespace

PYBIND11_MODULE(_zhil, m) {
  m.doc() = "zhil's C++ core (the harness, devices and runs); use the `zhil` package, not this module";
  m.attr("version") = ZHIL_VERSION;

  m.def("project_root", &lab::find_project_root, "The zhil checkout or installation that holds fixtures/ and scenarios/.");
  m.def("resolve_station", &lab::resolve_station, py::arg("station"), py::arg("scenario_dir"), py::arg("root"));
  m.def(
      "seconds",
      [](const std::string& text) {
        try {
          ConfigNode n(YAML::Node(text), std::make_shared<const std::string>("<time>"), "");
          return to_seconds(n.as_duration());
        } catch (const ConfigError& e) {
          throw py::value_error(std::string(e.what()).substr(std::string("<time>:1:1: ").size()));
        }
      },
      py::arg("text"), "\"10 min\" -> 600.0");
  m.def("core_names", [] { return CoreRegistry::instance().names(); }, "Control cores registered in C++ by name.");

  py::class_<StationConfig, std::shared_ptr<StationConfig>>(m, "StationConfig")
      .def_static("load", [](const std::string& path) { return std::const_pointer_cast<StationConfig>(load_station_or_raise(path)); })
      .def_readonly("name", &StationConfig::name)
      .def_readonly("file", &StationConfig::file)
      .def_readonly("description", &StationConfig::description)
      .def_readonly("core", &StationConfig::core)
      .def_property_readonly("cycle", [](const StationConfig& s) { return to_seconds(s.cycle); })
      .def_readonly("nominal_frequency", &StationConfig::nominal_frequency_hz)
      .def_readonly("nominal_voltage", &StationConfig::nominal_voltage_v)
      .def_property_readonly("devices",
                             [](const StationConfig& s) {
                               py::list out;
                               for (const DeviceConfig& d : s.devices) out.append(device_dict(d));
                               return out;
                             })
      .def("with_role", [](const StationConfig& s, const std::string& role) {
        std::vector<std::string> out;
        for (const DeviceConfig* d : s.with_role(role)) out.push_back(d->name);
        return out;
      });

  py::class_<Scenario, std::shared_ptr<Scenario>>(m, "ScenarioSpec")
      .def_static("load", [](const std::string& path) { return std::const_pointer_cast<Scenario>(load_scenario_or_raise(path)); })
      .def_readonly("name", &Scenario::name)
      .def_readonly("description", &Scenario::description)
      .def_readonly("file", &Scenario::file)
      .def_readonly("directory", &Scenario::directory)
      .def_readonly("station", &Scenario::station)
      .def_readonly("seed", &Scenario::seed)
      .def_readonly("sha256", &Scenario::sha256)
      .def_property_readonly("duration", [](const Scenario& s) { return to_seconds(s.duration); })
      .def_property_readonly("checks",
                             [](const Scenario& s) {
                               std::vector<std::string> v;
                               for (const auto& c : s.checks) v.push_back(c.name);
                               return v;
                             })
      .def_property_readonly("measurements", [](const Scenario& s) {
        std::vector<std::string> v;
        for (const auto& c : s.measurements) v.push_back(c.name);
        return v;
      });

  py::class_<LayeredConfig>(m, "CoreParams", "A core's parameters: the scenario's core_params over the station's core.params.")
      .def("has", [](const LayeredConfig& p, const std::string& key) { return p.get(key).defined(); }, py::arg("key"))
      .def(
          "quantity",
          [](const LayeredConfig& p, const std::string& key, const std::string& unit, double fallback, double low, double high) {
            return config_error_as_python([&] { return p.quantity_in(key, unit, fallback, low, high); });
          },
          py::arg("key"), py::arg("unit"), py::arg("default"), py::arg("low") = -std::numeric_limits<double>::infinity(),
          py::arg("high") = std::numeric_limits<double>::infinity(),
          "The value of `key` in `unit` (\"1.2 MW\" with unit \"W\" is 1.2e6), `default` if absent; refused at its "
          "file:line:column unless low <= value <= high.")
      .def(
          "text",
          [](const LayeredConfig& p, const std::string& key, const std::string& fallback) {
            return config_error_as_python([&] { return p.get(key).defined() ? p.get(key).as_string() : fallback; });
          },
          py::arg("key"), py::arg("default") = "")
      .def(
          "flag",
          [](const LayeredConfig& p, const std::string& key, bool fallback) {
            return config_error_as_python([&] { return p.get(key).defined() ? p.get(key).as_bool() : fallback; });
          },
          py::arg("key"), py::arg("default") = false)
      .def(
          "expect_keys",
          [](const LayeredConfig& p, const std::vector<std::string>& keys) {
            config_error_as_python([&] { p.expect_keys(keys); });
          },
          py::arg("keys"), "Refuses (at file:line:column) any key not in `keys`: a misspelt parameter is an error.")
      .def("where", &LayeredConfig::where);

  py::class_<CoreContextView>(m, "CoreContext", "What a control core's configure() is told about its run.")
      .def_property_readonly("station", [](const CoreContextView& c) { return std::const_pointer_cast<StationConfig>(c.station); })
      .def_readonly("params", &CoreContextView::params)
      .def_readonly("cycle", &CoreContextView::cycle_s, "the run's cycle, s")
      .def_readonly("start_time_of_day", &CoreContextView::start_time_of_day_s, "s after midnight at t = 0")
      .def_readonly("real_time", &CoreContextView::real_time);

  py::class_<CoreIoView>(m, "CoreIO",
                         "A control core's access to the run: resolve names to ids in configure(), then get and set by "
                         "id in step().")
      .def(
          "input", [](const CoreIoView& v, const std::string& n) { return v.get().input(n); }, py::arg("name"),
          "The id of any signal the core reads (a measurement, a limit, a stimulus).")
      .def(
          "command", [](const CoreIoView& v, const std::string& n) { return v.get().command(n); }, py::arg("name"),
          "The id of a command the core writes (the safety envelope bounds what is applied).")
      .def(
          "publish", [](const CoreIoView& v, const std::string& n, const std::string& unit) { return v.get().publish(n, unit); },
          py::arg("name"), py::arg("unit"), "A signal of the core's own (recorded, checkable); configure() only.")
      .def("get", [](const CoreIoView& v, SignalId id) { return v.get().get(id); }, py::arg("id"))
      .def("quality", [](const CoreIoView& v, SignalId id) { return std::string(to_string(v.get().quality(id))); }, py::arg("id"))
      .def("set", [](CoreIoView& v, SignalId id, double value) { v.get().set(id, value); }, py::arg("id"), py::arg("value"));

  py::class_<ScriptedRun>(m, "ScriptedRun")
      .def(py::init([](std::shared_ptr<Scenario> scenario, const std::string& scenario_text, const std::string& station, py::object core, py::object seed,
                       bool realtime, const std::string& out, bool overwrite, const std::string& dut_serial,
                       bool progress, const std::string& db, const std::string& serve, const std::string& serve_token) {
             RunRequest rq;
             rq.scenario = scenario;
             rq.scenario_text = scenario_text;
             rq.station_file = station;
             rq.core = core;
             if (!seed.is_none()) rq.seed = py::cast<std::uint64_t>(seed);
             rq.real_time = realtime;
             rq.out = out;
             rq.overwrite = overwrite;
             rq.dut_serial = dut_serial;
             rq.show_progress = progress;
             rq.results_db = db;
             rq.serve = serve;
             rq.serve_token = serve_token;
             return std::make_unique<ScriptedRun>(std::move(rq));
           }),
           py::arg("scenario"), py::arg("scenario_text"), py::arg("station"), py::arg("core"), py::arg("seed"), py::arg("realtime"), py::arg("out"),
           py::arg("overwrite"), py::arg("dut_serial"), py::arg("progress"), py::arg("db") = "",
           py::arg("serve") = "", py::arg("serve_token") = "")
      .def("live_url", &ScriptedRun::live_url)
      .def("step", &ScriptedRun::step, py::arg("catch_signals"))
      .def("until", &ScriptedRun::until, py::arg("t"), py::arg("catch_signals"))
      .def("run_to_end", &ScriptedRun::run_to_end, py::arg("catch_signals"))
      .def("finish", &ScriptedRun::finish, py::arg("verdict"), py::arg("why"))
      .def("act", &ScriptedRun::act, py::arg("yaml"), py::arg("origin"), py::arg("what"))
      .def("set_command", &ScriptedRun::set_command, py::arg("name"), py::arg("value"))
      .def_property_readonly("time", &ScriptedRun::time)
      .def_property_readonly("ended", &ScriptedRun::ended)
      .def_property_readonly("finished", &ScriptedRun::finished)
      .def_property_readonly("cycles", &ScriptedRun::cycles)
      .def_property_readonly("out_dir", &ScriptedRun::out_dir)
      .def_property_readonly("core_name", &ScriptedRun::core_name)
      .def_property_readonly("stop_cause", &ScriptedRun::stop_cause)
      .def("signal", &ScriptedRun::signal, py::arg("name"))
      .def("names", &ScriptedRun::names)
      .def("record_json", &ScriptedRun::record_json)
      .def("rows", [](const ScriptedRun& r) {
        const RowBuffer& b = r.rows();
        const std::size_t cols = b.columns().size(), n = b.times().size();
        py::array_t<double> t(static_cast<py::ssize_t>(n));
        std::copy(b.times().begin(), b.times().end(), t.mutable_data());
        py::array_t<double> v({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(cols)});
        std::copy(b.values().begin(), b.values().end(), v.mutable_data());
        return py::make_tuple(b.columns(), t, v, b.full());
      });
}
