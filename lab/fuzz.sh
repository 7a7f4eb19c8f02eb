#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ (ASan + UBSan) and runs each for a while,
# seeded with the project's own scenarios, stations and check conditions.
#   lab/fuzz.sh            20 s per target (what lab/test.sh runs)
#   lab/fuzz.sh 600        10 minutes per target
# A crash leaves its input as build-fuzz/findings/<target>/crash-*: copy it to
# tests/fuzz/regressions/<target>/ once fixed, where every build replays it as a test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
jobs=$(nproc)
cmake -S . -B build-fuzz -DZHIL_FUZZ=ON -DZHIL_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs"

declare -A seeds=(
  [scenario_loader]="scenarios scenarios/negative tests/fuzz/regressions/scenario_loader"
  [station_loader]="fixtures/stations tests/fuzz/regressions/station_loader"
  [expression]="tests/fuzz/corpus/expression tests/fuzz/regressions/expression"
)
status=0
for target in scenario_loader station_loader expression; do
  corpus=build-fuzz/corpus/$target findings=build-fuzz/findings/$target
  mkdir -p "$corpus" "$findings"
  # -rss_limit_mb: a loader that allocates without bound is a finding too.
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
     build-fuzz/bin/fuzz_$target "$corpus" ${seeds[$target]} -max_total_time="$seconds" \
       -rss_limit_mb=2048 -timeout=10 -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 \
       >"build-fuzz/fuzz_$target.log" 2>&1; then
    echo "zhil fuzz: $target: $(grep -E '^stat::number_of_executed_units' "build-fuzz/fuzz_$target.log" | awk '{print $2}') executions in ${seconds} s, no crash"
  else
    echo "zhil fuzz: $target: FOUND A CRASH (build-fuzz/fuzz_$target.log, input in $findings/)" >&2
    tail -40 "build-fuzz/fuzz_$target.log" >&2
    status=1
  fi
done
exit $status
