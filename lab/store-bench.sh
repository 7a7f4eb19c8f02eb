#!/usr/bin/env bash
# The results-store benchmark on both backends: SQLite (a file under /tmp) and PostgreSQL (a
# throwaway cluster, as the tests start one). Figures: ingest in runs/s, and query times with
# 100,000 runs stored. Usage: lab/store-bench.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bench=$build/bin/zhil_store_bench
work=$(mktemp -d /tmp/zhil-store-bench.XXXXXX)
chmod 755 "$work"
trap '"$here/tests/results/postgres_cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$bench" --db "$work/results.db"
uri=$("$here/tests/results/postgres_cluster.sh" start "$work/pg")
"$bench" --db "$uri"
