#!/usr/bin/env bash
# The Debian package of zhil, built with `cpack -G DEB` from BUILD_DIR, extracted into a scratch root
# (dpkg -x, as a clean Debian 12 would unpack it), must run `zhil suite` and `import zhil` from
# there, with no checkout in sight (ZHIL_ROOT unset, run from an empty folder). Then the same for
# `cmake --install` into a scratch prefix. Usage: debian_package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
# Outside any checkout: zhil finds its data from the working directory up first.
work=$(mktemp -d /tmp/zhil-package-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/empty"
unset ZHIL_ROOT PYTHONPATH
fail() { echo "debian_package_test: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null) || fail "cpack -G DEB failed"
deb=$(ls "$work"/deb/zhil_*.deb)
echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg-deb -f "$deb" Depends | grep -q "python3-pandas" || fail "the package does not depend on python3-pandas"
contents=$(dpkg-deb -c "$deb")
grep -q "./usr/lib/python3/dist-packages/zhil/_zhil.cpython" <<<"$contents" || fail "no Python module in the package"
grep -q "./usr/share/zhil/scenarios/suite.yaml" <<<"$contents" || fail "no scenarios in the package"
grep -q "./usr/bin/zhil$" <<<"$contents" || fail "no zhil program in the package"
dpkg -x "$deb" "$work/root"

cd "$work/empty"
"$work/root/usr/bin/zhil" suite "$work/root/usr/share/zhil/scenarios/suite.yaml" --out "$work/suite" > "$work/suite.txt" \
  || { cat "$work/suite.txt"; fail "zhil suite from the package did not pass"; }
grep -q "^suite verdict: PASS" "$work/suite.txt" || { cat "$work/suite.txt"; fail "no PASS in the suite's output"; }
tail -1 "$work/suite.txt"

export PYTHONPATH="$work/root/usr/lib/python3/dist-packages"
/usr/bin/python3 - "$work" <<'PY'
import os, sys
import zhil
work = sys.argv[1]
assert zhil.__file__.startswith(os.path.join(work, "root")), zhil.__file__
assert zhil.project_root() == os.path.join(work, "root", "usr", "share", "zhil"), zhil.project_root()
with zhil.run(os.path.join(zhil.project_root(), "scenarios", "grid-outage-island.yaml"), out=os.path.join(work, "py")) as run:
    rec = run.run_to_end()
assert rec.verdict == "PASS", rec
print("import zhil from the package:", zhil.__version__, rec.verdict)
PY
# The pytest plugin is registered by its entry point once installed: no -p needed.
help=$(/usr/bin/python3 -m pytest --help -p no:cacheprovider)
grep -q -- "--zhil-out" <<<"$help" || fail "pytest did not load zhil.pytest_plugin by its entry point"
echo "pytest loads zhil.pytest_plugin from the installed package"

# cmake --install into a scratch prefix: where Debian's python3 looks for a local install.
unset PYTHONPATH
cmake --install "$build" --prefix "$work/prefix" >/dev/null
pyver=$(/usr/bin/python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
found=$(PYTHONPATH="$work/prefix/lib/python$pyver/dist-packages" /usr/bin/python3 -c 'import zhil; print(zhil.project_root())')
[ "$found" = "$work/prefix/share/zhil" ] || fail "cmake --install: import zhil found its data at $found"
"$work/prefix/bin/zhil" validate "$work/prefix/share/zhil/scenarios/grid-outage-island.yaml" >/dev/null || fail "cmake --install: zhil validate"
echo "cmake --install: zhil and import zhil work from $work/prefix"
