#include "lab/scenario_runner.hpp"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>

#include "devices/station_builder.hpp"
#include "harness/config/config_error.hpp"
#include "lab/project_paths.hpp"

namespace zhil::lab {

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

ScenarioRunOutcome run_scenario(const ScenarioRunRequest& rq) {
  ScenarioRunOutcome out;
  Scenario scenario;
  StationConfig station;
  Bench bench;
  std::unique_ptr<ControlCore> core;
  // Everything that can be wrong with the files is found here, before any device is touched.
  try {
    scenario = load_scenario(rq.scenario_file);
    out.scenario_name = scenario.name;
    const std::string root = find_project_root();
    const std::string station_file =
        rq.station_file.empty() ? resolve_station(scenario.station, scenario.directory, root) : rq.station_file;
    station = load_station(station_file);
    core = CoreRegistry::instance().create(station.core);
    if (!core) throw ConfigError(station.file + ": unknown control core '" + station.core + "'");
    bench = build_bench(station, rq.seed.value_or(scenario.seed));
  } catch (const std::exception& e) {
    out.verdict = Verdict::error;
    out.message = e.what();
    return out;
  }
  out.out_dir = rq.out_dir.empty() ? "results/" + scenario.name + "-" + utc_stamp() : rq.out_dir;
  RunOptions opt;
  opt.real_time = rq.real_time;
  opt.seed = rq.seed.value_or(scenario.seed);
  opt.out_dir = out.out_dir;
  opt.path_base = find_project_root();
  opt.show_progress = rq.show_progress;
  if (rq.announce_start)
    opt.on_started = [](const std::string& id) { std::cout << "started run " << id << std::endl; };
  try {
    out.result = execute_run(station, scenario, bench, std::move(core), opt);
    out.verdict = out.result.verdict;
    out.message = out.result.error;
  } catch (const std::exception& e) {
    out.verdict = Verdict::error;
    out.message = e.what();
  }
  return out;
}

}  // namespace zhil::lab
