// Asynchronous device I/O: 74 devices (64 packs, 8 inverters, grid, hall) that each answer 10 ms
// after they are asked, read and written every 100 ms cycle.
//   real time, for N seconds (default 60): cycles, overruns, late device I/O, cycle completion
//     (from the cycle's deadline to the end of its write phase) p50 / p99 / max
//   simulated time, one hour: x real time, and the SHA-256 of its time series over two runs
//   build/bin/zhil_io_bench [seconds]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "devices/station_builder.hpp"
#include "harness/recording/sha256.hpp"
#include "harness/run.hpp"

using namespace zhil;

namespace {

RunResult run(const std::string& scenario_text, bool real_time, const std::string& out) {
  auto dir = std::filesystem::temp_directory_path() / "zhil-io-bench";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "scenario.yaml").string();
  std::ofstream(path) << scenario_text;
  const Scenario sc = load_scenario(path);
  const StationConfig st = load_station(std::string(ZHIL_SOURCE_DIR) + "/fixtures/stations/large-64pack-latency.yaml");
  Bench bench = build_bench(st, sc.seed);
  RunOptions opt;
  opt.real_time = real_time;
  opt.out_dir = (dir / out).string();
  opt.overwrite = true;  // a benchmark reruns into the same folder
  opt.seed = sc.seed;
  return execute_run(st, sc, bench, CoreRegistry::instance().create(st.core), opt);
}

std::string scenario(long seconds) {
  return "scenario: async-io-64\nduration: " + std::to_string(seconds) +
         " s\nrecord_interval: 1 s\ntimeline:\n  - at: 0 s\n    load: {profile: ai_training, level: 3.6 MW, swing: 15 %, "
         "period: [0.5 s, 2 s]}\nchecks:\n  - {name: on_time, always: \"run.late_devices == 0\"}\n  - {name: "
         "no_unserved, always: \"hall.p_unserved < 1\"}\n";
}

}  // namespace

int main(int argc, char** argv) {
  const long seconds = argc > 1 ? std::atol(argv[1]) : 60;
  RunResult rt = run(scenario(seconds), true, "rt");
  const TestRecord& r = rt.record;
  std::printf("real time, 74 devices x 10 ms, 100 ms cycle, %ld s: verdict %s, cycles %llu, overruns %llu, "
              "late device I/O %llu\n",
              seconds, to_string(rt.verdict), static_cast<unsigned long long>(r.cycles),
              static_cast<unsigned long long>(r.overruns), static_cast<unsigned long long>(r.late_device_io));
  std::printf("cycle completion (deadline to end of writes): p50 %.1f ms, p99 %.1f ms, max %.1f ms; start latency p99 %.0f us\n",
              r.rt_completion_p50_us / 1000, r.rt_completion_p99_us / 1000, r.rt_completion_max_us / 1000, r.rt_p99_us);
  std::printf("tuning: %s\n", r.rt_tuning.c_str());

  std::string hashes[2];
  double speed = 0;
  for (int k = 0; k < 2; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    RunResult sim = run(scenario(3600), false, "sim" + std::to_string(k));
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    speed = sim.record.end_s / wall;
    hashes[k] = sha256_file_hex(std::filesystem::path(sim.record_path).parent_path().string() + "/timeseries.csv");
    if (sim.verdict != Verdict::pass) std::printf("simulated run %d: %s %s\n", k, to_string(sim.verdict), sim.error.c_str());
  }
  std::printf("simulated time, same station, 1 h: %.0fx real time; time series %s (run 1) %s (run 2): %s\n", speed,
              hashes[0].substr(0, 16).c_str(), hashes[1].substr(0, 16).c_str(),
              hashes[0] == hashes[1] ? "identical" : "DIFFERENT");
  return rt.verdict == Verdict::pass && r.overruns == 0 && hashes[0] == hashes[1] ? 0 : 1;
}
