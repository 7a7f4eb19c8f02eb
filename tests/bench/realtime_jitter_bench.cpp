// Real-time cycle jitter: the one-pack bench at a 10 ms cycle for N seconds of wall time (default
// 600: ten minutes), reporting cycle start latency p50/p99/max and overruns from the run's record.
//   build/bin/zhil_realtime_bench [seconds]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "devices/station_builder.hpp"
#include "harness/run.hpp"

using namespace zhil;

int main(int argc, char** argv) {
  const long seconds = argc > 1 ? std::atol(argv[1]) : 600;
  auto dir = std::filesystem::temp_directory_path() / "zhil-rt-bench";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "rt.yaml").string();
  std::ofstream(path) << "scenario: realtime-jitter\nstation: bench-1pack\nduration: " << seconds
                      << " s\ncycle: 10 ms\nrecord_interval: 1 s\ntimeline:\n  - at: 0 s\n    load: {profile: "
                         "ai_training, level: 80 kW, swing: 30 %, period: [0.5 s, 2 s]}\nchecks: [{name: no_unserved, "
                         "always: \"hall.p_unserved < 1\"}]\n";
  const Scenario sc = load_scenario(path);
  const StationConfig st = load_station(std::string(ZHIL_SOURCE_DIR) + "/fixtures/stations/bench-1pack.yaml");
  Bench bench = build_bench(st, 1);
  RunOptions opt;
  opt.real_time = true;
  opt.out_dir = (dir / "out").string();
  opt.overwrite = true;  // a benchmark reruns into the same folder
  RunResult r = execute_run(st, sc, bench, CoreRegistry::instance().create(st.core), opt);
  const TestRecord& rec = r.record;
  std::printf("real time, 10 ms cycle, %ld s: verdict %s, cycles %llu, overruns %llu, skipped %llu\n", seconds,
              to_string(r.verdict), static_cast<unsigned long long>(rec.cycles),
              static_cast<unsigned long long>(rec.overruns), static_cast<unsigned long long>(rec.rt_skipped));
  std::printf("tuning: %s\n", rec.rt_tuning.c_str());
  std::printf("cycle start latency: p50 %.0f us, p99 %.0f us, max %.0f us; longest cycle work %.0f us\n", rec.rt_p50_us,
              rec.rt_p99_us, rec.rt_max_us, rec.rt_max_work_us);
  return r.verdict == Verdict::pass ? 0 : 1;
}
