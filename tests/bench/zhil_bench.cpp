// Speed of simulated-time runs, as x real time (simulated seconds per wall second), on one core:
//   1 pack of 16 modules + 1 inverter, the 24 h scenario recording every signal at 1 s (target 20,000x)
//   the same station recording every signal every cycle (target 5,000x)
//   64 packs + 8 inverters (target 1,000x)
// Run: build/bin/zhil_bench  (writes its time series under the system temp folder)
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>

#include "devices/station_builder.hpp"
#include "harness/run.hpp"

using namespace zhil;

namespace {

std::string source(const std::string& rel) { return std::string(ZHIL_SOURCE_DIR) + "/" + rel; }

std::string temp_scenario(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "zhil-bench";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

void run_scenario(benchmark::State& state, const std::string& scenario_file, const std::string& station_file) {
  const Scenario sc = load_scenario(scenario_file);
  const StationConfig st = load_station(station_file);
  const std::string out = (std::filesystem::temp_directory_path() / "zhil-bench" / sc.name).string();
  double simulated = 0, wall = 0;
  std::uint64_t cycles = 0, rows = 0;
  std::size_t signals = 0;
  for (auto _ : state) {
    Bench bench = build_bench(st, sc.seed);
    RunOptions opt;
    opt.out_dir = out;
    opt.overwrite = true;  // a benchmark reruns into the same folder
    opt.handle_signals = false;
    opt.seed = sc.seed;
    const auto t0 = std::chrono::steady_clock::now();
    RunResult r = execute_run(st, sc, bench, CoreRegistry::instance().create(st.core), opt);
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.verdict != Verdict::pass) state.SkipWithError(("run did not pass: " + r.error).c_str());
    simulated += r.record.end_s;
    cycles += r.record.cycles;
    rows += r.record.timeseries_rows;
    std::ifstream header(out + "/timeseries.csv");
    std::string line;
    std::getline(header, line);
    signals = static_cast<std::size_t>(std::count(line.begin(), line.end(), ','));
  }
  state.counters["x_real_time"] = simulated / wall;
  state.counters["cycles_per_s"] = static_cast<double>(cycles) / wall;
  state.counters["signals"] = static_cast<double>(signals);
  state.counters["rows"] = static_cast<double>(rows) / static_cast<double>(state.iterations());
}

void BM_OnePack_24h_Record1s(benchmark::State& state) {
  run_scenario(state, source("scenarios/peak-shaving-24h-1pack.yaml"), source("fixtures/stations/bench-1pack.yaml"));
}

void BM_OnePack_2h_RecordEveryCycle(benchmark::State& state) {
  std::ifstream in(source("scenarios/peak-shaving-24h-1pack.yaml"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("scenario: peak-shaving-24h-1pack"), 32, "scenario: every-cycle-2h-1pack");
  text.replace(text.find("duration: 24 h"), 14, "duration: 2 h");
  text.replace(text.find("record_interval: 1 s"), 20, "record_interval: 100 ms");
  run_scenario(state, temp_scenario("every-cycle.yaml", text), source("fixtures/stations/bench-1pack.yaml"));
}

void BM_64Packs_8Inverters_6h(benchmark::State& state) {
  const std::string text = R"(scenario: large-6h
station: large-64pack
duration: 6 h
record_interval: 60 s
timeline:
  - at: 0 s
    load: {profile: diurnal, min: 3 MW, max: 4.4 MW, peak_at: "04:00", noise: 2 %}
checks:
  - {name: no_unserved, always: "hall.p_unserved < 1"}
)";
  run_scenario(state, temp_scenario("large.yaml", text), source("fixtures/stations/large-64pack.yaml"));
}

void BM_Simulated16Packs_24h(benchmark::State& state) {
  run_scenario(state, source("scenarios/peak-shaving-24h.yaml"), source("fixtures/stations/simulated.yaml"));
}

}  // namespace

BENCHMARK(BM_OnePack_24h_Record1s)->Unit(benchmark::kSecond)->Iterations(3);
BENCHMARK(BM_OnePack_2h_RecordEveryCycle)->Unit(benchmark::kSecond)->Iterations(3);
BENCHMARK(BM_64Packs_8Inverters_6h)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_Simulated16Packs_24h)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK_MAIN();
