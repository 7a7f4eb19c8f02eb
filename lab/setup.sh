#!/usr/bin/env bash
# Installs what zhil needs from Debian 12 packages (only what is missing), then configures and
# builds it in build/. Idempotent: run it as often as you like. Needs root or sudo to install.
#   lab/setup.sh            install missing packages, build build/ (the program is build/bin/zhil)
#   lab/setup.sh --no-build install only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make pkg-config git
  libboost1.81-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libmuparser-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pytest python3-pandas
  clang libclang-rt-14-dev libfuzzer-14-dev
  libmodbus-dev mbpoll python3-pymodbus python3-serial python3-serial-asyncio socat
  libsocketcan-dev python3-can can-utils qemu-system-x86 busybox-static cpio xz-utils
  pybind11-dev python3-dev python3-numpy dpkg-dev file
  libsqlite3-dev sqlite3 libpq-dev postgresql libcereal-dev
  chromium chromium-driver python3-selenium
)
# npm (for the reports' front-end code) comes with Node.js; Debian's npm only if there is none, as
# it would conflict with a Node.js installed from elsewhere.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "zhil setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "zhil setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "zhil setup: all Debian packages present"
fi

# The reports' front-end code (uPlot), pinned by lab/reports/web/package-lock.json and inlined into
# every report at build time: nothing is loaded from a network when a report is opened.
pinned=$(grep -A3 '"node_modules/uplot"' lab/reports/web/package-lock.json | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p')
installed=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' lab/reports/web/node_modules/uplot/package.json 2>/dev/null || true)
if [ ! -f lab/reports/web/node_modules/uplot/dist/uPlot.iife.min.js ] || [ "$installed" != "$pinned" ]; then
  echo "zhil setup: installing the reports' front-end code (npm ci in lab/reports/web: uPlot $pinned)"
  (cd lab/reports/web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi

if [ "${1:-}" != "--no-build" ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)"
  echo "zhil setup: built build/bin/zhil"
fi
