"""The zhil program end to end: the main job, exit codes, errors with locations, abort by signal,
determinism through the CLI, and output files readable by the tools labs use (pandas)."""
import json
import re
import signal
import subprocess

import pandas as pd

from conftest import ZHIL

LONG_SCENARIO = """scenario: long-soak
description: a month of soak, to be interrupted
station: bench-1pack
duration: 30 d
record_interval: 10 s
timeline:
  - at: 0 s
    load: {profile: diurnal, min: 60 kW, max: 110 kW, peak_at: "15:00"}
checks:
  - {name: no_unserved, always: "hall.p_unserved < 1"}
"""


def record(out):
    return json.loads((out / "record.json").read_text())


def test_main_job_runs_the_suite_and_reports(zhil, tmp_path):
    r = zhil("suite", "--out", tmp_path / "suite")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "suite verdict: PASS" in r.stdout
    assert "report: " in r.stdout
    summary = json.loads((tmp_path / "suite" / "suite.json").read_text())
    verdicts = {s["scenario"]: s["verdict"] for s in summary["scenarios"]}
    assert verdicts["peak-shaving-24h"] == "PASS"
    assert verdicts["grid-outage-island"] == "PASS"
    assert verdicts["frequency-excursion-droop"] == "PASS"
    assert verdicts["ai-training-swings"] == "PASS"
    assert verdicts["pack-over-temperature"] == "PASS"
    assert verdicts["strip-cycle-placement"] == "PASS"
    assert verdicts["undersized-battery"] == "FAIL"  # the negative example
    assert (tmp_path / "suite" / "report.md").read_text().count("| PASS |") == 6
    for line in ("PASS     peak-shaving-24h", "FAIL     undersized-battery"):
        assert line in r.stdout


def test_negative_example_exits_1_with_evidence(zhil, root, tmp_path):
    r = zhil("run", root / "scenarios/negative/undersized-battery.yaml", "--out", tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    rec = record(tmp_path)
    assert rec["verdict"] == "FAIL"
    failed = [c for c in rec["checks"] if c["verdict"] == "FAIL"]
    assert failed and failed[0]["name"] == "demand_within_limit"
    ev = failed[0]["evidence"]
    assert ev["t"] > 1800 and ev["values"]["site.import_15min"] > 1.0e6
    assert (tmp_path / "junit.xml").read_text().count("<failure") >= 1


def test_malformed_scenario_is_refused_with_its_location(zhil, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: bad\nduration: 1 h\nchecks:\n  - name: c\n    alwys: \"1\"\n")
    r = zhil("run", bad, "--out", tmp_path / "out")
    assert r.returncode == 2
    assert re.search(r"bad\.yaml:5:5: .*unknown key 'alwys'.*did you mean 'always'", r.stderr), r.stderr
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_failing_device_is_an_error_exit_2(zhil, tmp_path):
    sc = tmp_path / "comm.yaml"
    sc.write_text(LONG_SCENARIO.replace("30 d", "1 h").replace(
        "checks:", "  - at: 10 min\n    fault: {device: pack1, kind: comm_loss}\nchecks:"))
    r = zhil("run", sc, "--out", tmp_path / "out")
    assert r.returncode == 2, r.stdout
    rec = record(tmp_path / "out")
    assert rec["verdict"] == "ERROR"
    assert "pack1" in rec["error"]
    # The lost BMS cannot be commanded either, and the record says so rather than pretend.
    lost = [s for s in rec["safe_state"] if s["device"] == "pack1"][0]
    assert not lost["commanded"] and not lost["verified"] and "no reply" in lost["detail"]
    assert all(s["commanded"] and s["verified"] for s in rec["safe_state"] if s["device"] != "pack1")


def interrupt(tmp_path, sig):
    sc = tmp_path / "long.yaml"
    sc.write_text(LONG_SCENARIO)
    out = tmp_path / "out"
    p = subprocess.Popen([ZHIL, "run", str(sc), "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    first = p.stdout.readline()  # the run announces itself once its first cycle is due
    assert first.startswith("started run"), first
    p.send_signal(sig)
    rest, err = p.communicate(timeout=120)
    return p.returncode, first + rest, err, out


def test_ctrl_c_aborts_into_the_safe_state(tmp_path):
    code, stdout, err, out = interrupt(tmp_path, signal.SIGINT)
    assert code == 2, stdout + err
    rec = record(out)
    assert rec["verdict"] == "ABORTED"
    assert "SIGINT" in rec["error"]
    assert rec["safe_state"] and all(s["commanded"] and s["verified"] for s in rec["safe_state"])
    pack = [s for s in rec["safe_state"] if s["device"] == "pack1"][0]
    assert "contactor open" in pack["detail"]
    assert rec["time"]["end_s"] < 30 * 86400
    # Nothing recorded is lost: the time series has every row up to the abort.
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == rec["timeseries"]["rows"] > 0
    assert ts["t"].iloc[-1] <= rec["time"]["end_s"]
    assert all(c["verdict"] == "INCOMPLETE" for c in rec["checks"])


def test_sigterm_aborts_too(tmp_path):
    code, stdout, err, out = interrupt(tmp_path, signal.SIGTERM)
    assert code == 2
    assert record(out)["verdict"] == "ABORTED"
    assert "SIGTERM" in record(out)["error"]


def test_same_seed_same_bytes_through_the_cli(zhil, root, tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    sc = root / "scenarios/ai-training-swings.yaml"
    assert zhil("run", sc, "--seed", 9, "--out", a).returncode == 0
    assert zhil("run", sc, "--seed", 9, "--out", b).returncode == 0
    assert zhil("run", sc, "--seed", 10, "--out", c).returncode == 0
    assert (a / "timeseries.csv").read_bytes() == (b / "timeseries.csv").read_bytes()
    ra, rb = record(a), record(b)
    assert ra.pop("run")["id"] != rb.pop("run")["id"]
    assert ra == rb
    assert ra["seed"] == 9
    assert (a / "timeseries.csv").read_bytes() != (c / "timeseries.csv").read_bytes()


def test_timeseries_is_readable_by_pandas(zhil, root, tmp_path):
    r = zhil("run", root / "scenarios/grid-outage-island.yaml", "--out", tmp_path)
    assert r.returncode == 0, r.stdout
    ts = pd.read_csv(tmp_path / "timeseries.csv")
    assert ts.columns[0] == "t"
    assert ts["t"].is_monotonic_increasing and ts["t"].iloc[0] == 0
    assert (ts["t"].diff().dropna().round(6) == 1.0).all()  # the scenario records at 1 s
    for col in ("grid.p_import", "hall.p_unserved", "inv1.p_ac", "pack1.soc", "pack16.m16.t", "core.import_target"):
        assert col in ts.columns
    outage = ts[(ts["t"] > 601) & (ts["t"] < 1499)]
    assert (outage["grid.p_import"] == 0).all() and (outage["inv1.mode"] == 2).all()
    assert ts["hall.p_unserved"].max() < 1


def test_realtime_flag_runs_in_real_time(zhil, tmp_path):
    sc = tmp_path / "rt.yaml"
    sc.write_text("scenario: rt\nstation: bench-1pack\nduration: 2 s\ncycle: 10 ms\nchecks: [{name: ok, always: \"run.overruns >= 0\"}]\n")
    r = zhil("run", sc, "--realtime", "--out", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    rec = record(tmp_path / "out")
    assert rec["mode"] == "real-time"
    assert rec["run"]["wall_seconds"] >= 2.0
    rt = rec["run"]["real_time"]
    assert {"overruns", "start_latency_p50_us", "start_latency_p99_us", "start_latency_max_us"} <= rt.keys()


def test_list_shows_scenarios_and_stations(zhil):
    r = zhil("list")
    assert r.returncode == 0
    for name in ("peak-shaving-24h", "undersized-battery", "simulated", "bench-1pack", "large-64pack", "strip-cycle-placement"):
        assert name in r.stdout
    assert "INVALID" not in r.stdout


def test_validate_reports_each_file(zhil, root, tmp_path):
    bad = tmp_path / "nan.yaml"
    bad.write_text("scenario: n\nduration: .nan\nchecks: [{name: c, always: \"run.overruns >= 0\"}]\n")
    r = zhil("validate", root / "scenarios/peak-shaving-24h.yaml", root / "fixtures/stations/simulated.yaml", bad)
    assert r.returncode == 2
    assert r.stdout.count("ok ") == 2
    assert "nan.yaml:2:11:" in r.stdout
