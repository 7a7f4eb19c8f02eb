#include "devices/can/can_link.hpp"
#include "devices/can/can_log_sink.hpp"
#include "lab/reports/run_report.hpp"
#include "devices/can/can_pack_driver.hpp"
#include "harness/device_decorator.hpp"
#include "lab/run_preparation.hpp"

#include <cinttypes>
#include <cstdio>

#include "devices/station_builder.hpp"
#include "harness/config/config_error.hpp"
#include "harness/recording/signal_selection.hpp"
#include "harness/recording/timeseries_writer.hpp"
#include "lab/project_paths.hpp"

namespace zhil::lab {
namespace {

// Bytes a recorded number takes on average in timeseries.csv (measured on the project's scenarios:
// 15.8 on average for the simulated station at 1 s).
constexpr std::uint64_t kBytesPerValue = 16;
// What one signal costs in the table, the core's and the envelope's bindings, and the checks.
constexpr std::uint64_t kBytesPerSignal = 512;

ResourceEstimate estimate(const PreparedRun& p, const RunOptions& opt) {
  ResourceEstimate e;
  Run& run = *p.run;
  const Duration cycle = p.scenario.cycle.value_or(p.station.cycle);
  const Duration interval = p.scenario.record_interval.value_or(cycle);
  e.rows = static_cast<std::uint64_t>(p.scenario.duration / std::max(interval, cycle)) + 1;
  e.columns = select_signals(run.signals(), p.scenario.record).size();
  e.output_bytes = (64u << 10) + e.rows * ((e.columns + 1) * kBytesPerValue + 1);
  // The bus logs: every frame of every CAN pack, a line of about 45 bytes each.
  for (const auto& d : p.bench.devices) {
    const Device* dev = d.get();
    while (auto* dec = dynamic_cast<const DeviceDecorator*>(dev)) dev = &const_cast<DeviceDecorator*>(dec)->inner();
    if (auto* can = dynamic_cast<const can::CanPackDriver*>(dev); can && const_cast<can::CanPackDriver*>(can)->bus().logged())
      e.output_bytes += static_cast<std::uint64_t>(can->map().frames_per_second(cycle) * to_seconds(p.scenario.duration) * 45.0);
  }
  e.memory_bytes = run.signals().size() * kBytesPerSignal + (2u << 20);  // + the time series' batch
  e.memory_bytes += p.bench.memory_bytes;
  for (const DerivedSpec& d : p.scenario.derived)
    e.memory_bytes += 8 * static_cast<std::uint64_t>(d.window / cycle + 2);
  (void)opt;
  return e;
}

}  // namespace

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) v /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

namespace {

// From a loaded scenario on: the station, the core, the bench, the binding, the estimate.
std::unique_ptr<PreparedRun> prepare_loaded(std::unique_ptr<PreparedRun> p, const PrepareRequest& rq) {
  const std::string root = find_project_root();
  std::string station_file = rq.station_file;
  if (station_file.empty()) {
    station_file = resolve_station(p->scenario.station, p->scenario.directory, root);
    try {
      p->station = load_station(station_file);
    } catch (const ConfigError& e) {
      // A station that cannot be found is the scenario's error, at its `station:` line.
      if (std::string(e.what()).rfind(station_file + ":1:1: YAML file", 0) == 0)
        throw ConfigError(p->scenario.station_where + ": station '" + p->scenario.station + "': " + e.what());
      throw;
    }
  } else {
    p->station = load_station(station_file);
  }
  if (rq.adjust_station) rq.adjust_station(p->station);
  std::unique_ptr<ControlCore> core =
      rq.core ? rq.core() : CoreRegistry::instance().create(p->station.core);
  if (!core) {
    std::string known;
    for (const auto& n : CoreRegistry::instance().names()) known += (known.empty() ? "" : ", ") + n;
    throw ConfigError(p->station.core_where + ": unknown control core '" + p->station.core + "' (known: " + known +
                      ")");
  }
  const std::uint64_t seed = rq.seed.value_or(p->scenario.seed);
  p->bench = build_bench(p->station, seed);
  RunOptions opt = rq.options;
  opt.seed = seed;
  p->run = std::make_unique<Run>(p->station, p->scenario, p->bench, std::move(core), opt);
  // Every run leaves report.html (after the time series is closed, before the store hashes files).
  p->run->add_sink(std::make_shared<RunReportSink>(&p->scenario));
  // A station with CAN buses logs every frame (DIR/can-<bus>.log, candump format).
  for (const DeviceConfig& d : p->station.devices)
    if (d.link_type == "can-virtual" || d.link_type == "socketcan" || d.link_type == "socketcand") {
      p->run->add_sink(std::make_shared<can::CanLogSink>(can::bench_traffic(p->bench)));
      break;
    }
  if (Status s = p->run->prepare(); !s) throw ConfigError(s.message());
  p->estimate = estimate(*p, opt);
  const ResourceEstimate& e = p->estimate;
  if (e.output_bytes > rq.limits.max_output_bytes)
    throw ConfigError((p->scenario.duration_where.empty() ? p->scenario.file + ":1:1" : p->scenario.duration_where) +
                      ": this run would write about " + human_bytes(e.output_bytes) + " (" +
                      std::to_string(e.rows) + " rows of " + std::to_string(e.columns) +
                      " signals in timeseries.csv, and the CAN bus logs), over the limit of " + human_bytes(rq.limits.max_output_bytes) +
                      ": record fewer signals (record:) or less often (record_interval:), or raise the limit "
                      "with --max-output");
  if (e.memory_bytes > rq.limits.max_memory_bytes)
    throw ConfigError(p->station.file + ":1:1: this run would need about " + human_bytes(e.memory_bytes) +
                      " of memory, over the limit of " + human_bytes(rq.limits.max_memory_bytes) +
                      ": use a smaller station, or raise the limit with --max-memory");
  return p;
}

}  // namespace

std::unique_ptr<PreparedRun> prepare_run(const PrepareRequest& rq) {
  auto p = std::make_unique<PreparedRun>();
  p->scenario = load_scenario(rq.scenario_file);
  return prepare_loaded(std::move(p), rq);
}

std::unique_ptr<PreparedRun> prepare_scenario(Scenario scenario, const PrepareRequest& rq) {
  auto p = std::make_unique<PreparedRun>();
  p->scenario = std::move(scenario);
  return prepare_loaded(std::move(p), rq);
}

std::unique_ptr<PreparedRun> prepare_station(const PrepareRequest& rq) {
  // A station alone is checked by binding a scenario that asks nothing of it: devices built and
  // configured, the core configured with the station's own parameters, the envelope set up.
  auto p = std::make_unique<PreparedRun>();
  Scenario& sc = p->scenario;
  sc.name = "station-check";
  sc.file = rq.station_file;
  sc.directory = ".";
  sc.duration = std::chrono::minutes(1);
  sc.record_interval = std::chrono::seconds(1);
  CheckSpec c;
  c.name = "runs";
  c.kind = CheckKind::always;
  c.expression = "run.overruns >= 0";
  c.until = sc.duration;
  c.where = rq.station_file + ":1:1";
  sc.checks.push_back(c);
  return prepare_loaded(std::move(p), rq);
}

}  // namespace zhil::lab
