"""The pytest plugin as a test engineer uses it: fixtures, options, the hardware marker, records
under --zhil-out, JUnit properties, and a failing zhil check failing the test with its evidence."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import zhil

TESTS = '''
import pytest
import zhil

def test_passes(run, station):
    assert station.name == "bench-1pack"
    sc = (zhil.Scenario("short", duration="20 s", station="bench-1pack", record_interval="1 s")
          .demand(0, power="50 kW")
          .check("runs", always="run.overruns >= 0")
          .measure("peak_import", "grid.p_import", unit="W", high="200 kW"))
    with run(sc) as r:
        assert r.run_to_end().verdict == "PASS"

def test_a_failing_check_fails_the_test(run):
    sc = (zhil.Scenario("failing", duration="20 s", station="bench-1pack", record_interval="1 s")
          .demand(0, power="50 kW")
          .check("never_above_1kw", always="hall.p < 1000"))
    run(sc).run_to_end()

@pytest.mark.hardware
def test_needs_hardware(run):
    raise AssertionError("must not run on a simulated station")

def test_left_unfinished_is_finished_by_the_plugin(run):
    sc = zhil.Scenario("unfinished", duration="1 min", station="bench-1pack").check("ok", always="hall.p >= 0")
    r = run(sc)
    r.until(5)
'''


def pytest_run(tmp_path, *args):
    (tmp_path / "test_bench.py").write_text(TESTS)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(zhil.__file__))))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "zhil.pytest_plugin", "-p", "no:cacheprovider", "-rs",
                           "test_bench.py", "--junitxml", "junit.xml", *args], cwd=tmp_path, capture_output=True,
                          text=True, env=env, timeout=600)


def test_the_plugin(tmp_path):
    r = pytest_run(tmp_path, "--station", "bench-1pack", "--dut-serial", "ZH-0042", "--zhil-out", "records")
    out = r.stdout + r.stderr
    assert r.returncode == 1, out  # one test fails
    assert "1 failed, 2 passed, 1 skipped" in out, out
    # The failing check's evidence is the failure message.
    assert "zhil: failing: check never_above_1kw FAILED (always hall.p < 1000" in out
    assert "violated at t=0.0 s" in out and "hall.p = 80000.0" in out
    assert "test_bench.py:17)" in out  # where the check was written
    # The hardware marker's reason.
    assert "needs real hardware: station bench-1pack" in out and "has only simulators" in out
    # Records under --zhil-out, one folder per test.
    recs = sorted(p.name for p in (tmp_path / "records").iterdir())
    assert recs == ["test_bench.py_test_a_failing_check_fails_the_test", "test_bench.py_test_left_unfinished_is_finished_by_the_plugin",
                    "test_bench.py_test_passes"], recs
    left = zhil.Record.load(tmp_path / "records" / recs[1] / "record.json")
    assert left.verdict == "ABORTED" and left.safe and left.dut_serial == "ZH-0042"
    # JUnit properties: verdict, DUT serial, station and the measurement values.
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    case = next(c for c in junit.iter("testcase") if c.get("name") == "test_passes")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["zhil_verdict"] == "PASS" and props["zhil_dut_serial"] == "ZH-0042"
    assert props["zhil_station"] == "bench-1pack" and props["zhil_scenario"] == "short"
    assert props["measurement.peak_import"].endswith("W [None, 200000.0] PASS")
    assert props["zhil_record"].endswith("records/test_bench.py_test_passes/record.json")


def test_hardware_tests_run_on_a_station_with_a_real_device(tmp_path):
    # A station with a driver for a real device (here a Modbus inverter nobody serves): the marker
    # does not skip it; the test body runs (and fails on purpose).
    st = tmp_path / "bench.yaml"
    st.write_text("""station: real-bench
core: {name: reference}
devices:
  - {name: grid, role: grid, model: grid-simulator}
  - {name: hall, role: load, model: load-simulator, params: {power: 80 kW}}
  - {name: inv1, role: inverter, model: sunspec-inverter, link: {type: modbus-tcp, host: 127.0.0.1, port: 1}, packs: [pack1],
     limits: {p_discharge_max: 100 kW, p_charge_max: 100 kW, s_max: 100 kVA}}
  - {name: pack1, role: pack, model: pack-simulator, params: {file: %s},
     limits: {i_charge_max: 60 A, i_discharge_max: 95 A, soc_min: 5 %%, soc_max: 97 %%, t_max: 50 degC}}
""" % (os.path.join(zhil.project_root(), "fixtures/packs/zh-160kwh-16s.yaml")))
    r = pytest_run(tmp_path, "--station", str(st), "-k", "hardware")
    assert "must not run on a simulated station" in r.stdout, r.stdout + r.stderr
