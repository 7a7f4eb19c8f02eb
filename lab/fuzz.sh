#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ (ASan + UBSan) and runs each for a while,
# seeded with the project's own scenarios, stations, check conditions, register maps and Modbus replies.
#   lab/fuzz.sh            20 s per target (lab/test.sh runs 10 s)
#   lab/fuzz.sh 600        10 minutes per target
# A crash leaves its input as build-fuzz/findings/<target>/crash-*: copy it to
# tests/fuzz/regressions/<target>/ once fixed, where every build replays it as a test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
jobs=$(nproc)
cmake -S . -B build-fuzz -DZHIL_FUZZ=ON -DZHIL_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build-fuzz -j"$jobs"

declare -A seeds=(
  [scenario_loader]="scenarios scenarios/negative tests/fuzz/regressions/scenario_loader"
  [station_loader]="fixtures/stations tests/fuzz/regressions/station_loader"
  [expression]="tests/fuzz/corpus/expression tests/fuzz/regressions/expression"
  [register_map]="fixtures/modbus tests/fuzz/regressions/register_map"
  [modbus_reply]="tests/fuzz/corpus/modbus_reply tests/fuzz/regressions/modbus_reply"
  [dbc]="fixtures/can tests/fuzz/regressions/dbc"
  [socketcand]="tests/fuzz/corpus/socketcand tests/fuzz/regressions/socketcand"
)
# One target per core at a time; each reports when it is done (its lines are printed whole).
fuzz_one() {
  local target=$1 corpus=build-fuzz/corpus/$1 findings=build-fuzz/findings/$1 log=build-fuzz/fuzz_$1.log rc found
  mkdir -p "$corpus" "$findings"
  rm -f "$findings"/crash-* "$findings"/leak-* "$findings"/timeout-* "$findings"/oom-*
  local dirs=() d
  for d in ${seeds[$target]}; do [ -d "$d" ] && dirs+=("$d"); done
  # -rss_limit_mb: a loader that allocates without bound is a finding too.
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
    build-fuzz/bin/fuzz_$target "$corpus" "${dirs[@]}" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -timeout=10 -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 \
      >"$log" 2>&1 && rc=0 || rc=$?
  found=$(ls "$findings" 2>/dev/null | head -1)
  if [ $rc -eq 0 ] && [ -z "$found" ]; then
    echo "zhil fuzz: $target: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') executions in ${seconds} s, no crash"
  elif [ -n "$found" ]; then
    { echo "zhil fuzz: $target: FOUND A CRASH: $findings/$found (log: $log)"; tail -40 "$log"; } >&2
    return 1
  else
    { echo "zhil fuzz: $target: libFuzzer did not run (exit $rc; log: $log)"; tail -20 "$log"; } >&2
    return 1
  fi
}
status=0
running=0
for target in scenario_loader station_loader expression register_map modbus_reply dbc socketcand; do
  if [ $running -ge "$jobs" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
while [ $running -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
