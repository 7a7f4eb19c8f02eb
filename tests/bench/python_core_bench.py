"""Benchmark (not a test): what a control core written in Python costs in the loop.

  PYTHONPATH=build/python /usr/bin/python3 tests/bench/python_core_bench.py

1. Per-step overhead of a trivial Python core against a trivial C++ core ("manual", which writes
   nothing), on the 24 h one-pack day (864,000 cycles): (wall_python - wall_cpp) / cycles.
   The trivial Python core reads one signal and writes one command each step.
2. The 24 h one-pack scenario with the reference core ported to Python
   (scenarios/python/reference_core.py), x real time, against the C++ reference core.
Each configuration runs `--repeat` times (default 3); the best time counts.
"""
import argparse
import os
import sys
import tempfile
import time

import zhil

ROOT = zhil.project_root()
sys.path.insert(0, os.path.join(ROOT, "scenarios", "python"))
from reference_core import ReferenceCore  # noqa: E402

SCENARIO = os.path.join(ROOT, "scenarios", "peak-shaving-24h-1pack.yaml")


class Trivial(zhil.ControlCore):
    def configure(self, context, io):
        self.soc = io.input("pack1.soc")
        self.p_set = io.command("inv1.p_set")

    def step(self, t, io):
        io.set(self.p_set, 0.0 if io.get(self.soc) < 0.0 else 10e3)


class Empty(zhil.ControlCore):
    def configure(self, context, io):
        pass

    def step(self, t, io):
        pass


def timed(core, out):
    t0 = time.perf_counter()
    with zhil.run(SCENARIO, core=core, out=out, overwrite=True, progress=False) as run:
        rec = run.run_to_end()
        cycles = run.cycles
    return time.perf_counter() - t0, cycles, rec


def best(make_core, name, repeat, tmp):
    times = []
    for k in range(repeat):
        wall, cycles, rec = timed(make_core(), os.path.join(tmp, f"{name}-{k}"))
        times.append(wall)
    return min(times), cycles, rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cpp, cycles, _ = best(lambda: "manual", "manual", a.repeat, tmp)
        empty, _, _ = best(Empty, "empty", a.repeat, tmp)
        trivial, _, _ = best(Trivial, "trivial", a.repeat, tmp)
        print(f"24 h one-pack day, {cycles} cycles (best of {a.repeat})")
        print(f"  trivial C++ core (manual):      {cpp:7.2f} s  {86400 / cpp:8.0f}x real time")
        print(f"  empty Python core:              {empty:7.2f} s  overhead {(empty - cpp) / cycles * 1e6:5.2f} us/step")
        print(f"  trivial Python core (1 get, 1 set): {trivial:5.2f} s  overhead {(trivial - cpp) / cycles * 1e6:5.2f} us/step")
        ref_cpp, _, rc = best(lambda: None, "reference-cpp", a.repeat, tmp)
        ref_py, _, rp = best(ReferenceCore, "reference-py", a.repeat, tmp)
        print(f"  reference core, C++:            {ref_cpp:7.2f} s  {86400 / ref_cpp:8.0f}x real time  {rc.verdict}")
        print(f"  reference core, Python:         {ref_py:7.2f} s  {86400 / ref_py:8.0f}x real time  {rp.verdict}")


if __name__ == "__main__":
    main()
