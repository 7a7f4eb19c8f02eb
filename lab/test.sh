#!/usr/bin/env bash
# Builds and runs every test: the GoogleTest and pytest suites (ctest) in build/, then the same
# suites again under AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/. Both builds treat
# warnings in zhil's own code as errors (ZHIL_WERROR). Then the fuzz targets run briefly (lab/fuzz.sh).
# Last, a plain Release build, as a user makes
# it (no -Werror: a compiler's false positive must not stop a user), and its program is run once.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZHIL_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZHIL_SANITIZE=ON -DZHIL_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE no-sanitizer

# Fuzzing, briefly: the loaders and the expression parser under libFuzzer (clang, ASan + UBSan).
lab/fuzz.sh "${ZHIL_FUZZ_SECONDS:-20}"

cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$jobs"
build-release/bin/zhil run scenarios/grid-outage-island.yaml --out build-release/smoke --overwrite >/dev/null
echo "zhil test: Release build (no -Werror) built and ran scenarios/grid-outage-island.yaml: PASS"
