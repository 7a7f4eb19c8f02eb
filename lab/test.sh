#!/usr/bin/env bash
# Builds and runs every test: the GoogleTest and pytest suites (ctest) in build/, a Release build
# as a user makes it but with warnings in zhil's own code as errors (ZHIL_WERROR), then the same
# suites again under AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/. Then the fuzz
# targets run briefly (lab/fuzz.sh). Last, a user's plain Release configuration is checked: the same
# flags as build/ without -Werror (a compiler's false positive must not stop a user), so build/
# building proves it builds; its program is the one the smoke run below uses.
# Run it after `lab/setup.sh --no-build` (the README's test command), which installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
started=$SECONDS
stage() { echo "zhil test: $1 ($((SECONDS - started)) s so far)"; }

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DZHIL_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
stage "built build/ (Release, -Werror)"
ctest --test-dir build --output-on-failure -j"$jobs"
stage "build/ tests passed"

# -g1: line tables are all the sanitizers' reports need, and full debug info is most of the compile.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DZHIL_SANITIZE=ON -DZHIL_WERROR=ON -DZHIL_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE no-sanitizer
stage "build-asan/ tests passed"

# Fuzzing, briefly: the loaders, the expression parser, register maps and Modbus replies under
# libFuzzer (clang, ASan + UBSan).
lab/fuzz.sh "${ZHIL_FUZZ_SECONDS:-10}"
stage "fuzzing found nothing"

# A user's build: configured as the README says, it must not add -Werror anywhere.
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
if grep -rl -e '-Werror' build-release --include=flags.make >/dev/null; then
  echo "zhil test: a plain Release configuration turns warnings into errors" >&2
  exit 1
fi
build/bin/zhil run scenarios/grid-outage-island.yaml --out build/smoke --overwrite >/dev/null
stage "Release configuration has no -Werror; the Release program ran scenarios/grid-outage-island.yaml: PASS"
