#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the results-store tests: Debian's own server binaries,
# initdb'd under the build folder, listening on 127.0.0.1 only (a free port) and on a socket in
# its folder, trusting local connections (no password: nothing but the tests can reach it).
#
#   postgres_cluster.sh start DIR   initdb if needed, start; writes DIR/uri (postgresql://...)
#   postgres_cluster.sh stop DIR    stop it (fast shutdown) and remove DIR
#
# initdb refuses to run as root: as root, the cluster belongs to the `postgres` user that
# Debian's postgresql package creates.
set -euo pipefail
action=${1:?start or stop}
dir=$(realpath -m "${2:?cluster folder}")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "postgres_cluster.sh: PostgreSQL server not installed (apt-get install postgresql; lab/setup.sh does)" >&2
  exit 1
fi
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case $action in
  start)
    if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      cat "$dir/uri"; exit 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U zhil --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    # A free port on loopback, taken by asking the kernel for one.
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U zhil zhil_test
    echo "postgresql://zhil@127.0.0.1:$port/zhil_test" | as_owner tee "$dir/uri" >/dev/null
    cat "$dir/uri"
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *) echo "postgres_cluster.sh: start or stop" >&2; exit 2 ;;
esac
