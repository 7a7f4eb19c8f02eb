"""Resumable long runs: a run taking checkpoints (zhil run --checkpoint-every) that is killed with
kill -9, interrupted with Ctrl-C, or stopped by a lost device goes on with zhil resume RUN_ID from
its last checkpoint, in its own folder and under its own run id in the results store. In simulated
time the result is the uninterrupted run's, byte for byte; in real time the bench is brought up
again from its safe state."""
import csv
import json
import signal
import subprocess
import time

import pytest

from conftest import ROOT, ZHIL
from test_results import query, store  # noqa: F401 (store: the fixture, a SQLite file or a PostgreSQL database)

STRIP = ROOT / "scenarios" / "strip-cycle-placement.yaml"  # 3 days, its forecast learned over days


def zhil(*args, timeout=900):
    return subprocess.run([ZHIL, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def start(*args):
    p = subprocess.Popen([ZHIL, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    line = p.stdout.readline()
    assert line.startswith("started run "), line + p.stderr.read()
    return p, line.split()[2]


def wait_for_checkpoint(p, store, run_id, seq):
    """Until the store holds checkpoint `seq` of the run (the run still going)."""
    deadline = time.monotonic() + 300
    while True:
        rows = query(store, f"SELECT MAX(seq) FROM checkpoints WHERE run_id = '{run_id}'")
        if rows and rows[0][0] not in ("", None) and int(rows[0][0]) >= seq:
            return
        assert p.poll() is None, "the run ended before its checkpoint reached the store"
        assert time.monotonic() < deadline, "no checkpoint reached the store"
        time.sleep(0.02)


def events_are_contiguous(store, run_id):
    rows = query(store, f"SELECT COUNT(*), COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM events WHERE run_id = '{run_id}'")
    n, distinct, lo, hi = map(int, rows[0])
    return n == distinct and lo == 0 and hi == n - 1


def test_a_run_killed_with_kill_9_resumes_to_the_bytes_of_a_run_never_interrupted(tmp_path, store):
    through = zhil("run", STRIP, "--out", tmp_path / "through", "--db", store)
    assert through.returncode == 0, through.stdout + through.stderr

    p, run_id = start("run", STRIP, "--out", tmp_path / "killed", "--db", store, "--checkpoint-every", "6 h")
    try:
        wait_for_checkpoint(p, store, run_id, 4)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert p.returncode == -signal.SIGKILL
    assert query(store, f"SELECT COUNT(*) FROM checkpoints WHERE run_id = '{run_id}'")[0][0] in ("1", "2")

    r = zhil("resume", run_id[:12], "--db", store)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"resuming run {run_id} from checkpoint" in r.stdout
    assert (tmp_path / "killed" / "timeseries.csv").read_bytes() == (tmp_path / "through" / "timeseries.csv").read_bytes()
    a = json.loads((tmp_path / "through" / "record.json").read_text())
    b = json.loads((tmp_path / "killed" / "record.json").read_text())
    assert b["run"]["id"] == run_id and b["verdict"] == a["verdict"] == "PASS" and b["run"]["resumptions"] == 1
    for key in ("checks", "measurements", "time", "timeseries", "envelope_interventions", "safe_state"):
        assert b[key] == a[key], key
    assert any(e["what"].startswith("resumed from checkpoint") for e in b["events"])
    # One row for the run, PASS now, resumed once; its events once each, numbered on.
    assert query(store, f"SELECT verdict, resumptions FROM runs WHERE run_id = '{run_id}'") == [("PASS", "1")]
    assert events_are_contiguous(store, run_id)
    assert query(store, f"SELECT COUNT(*) FROM measurements WHERE run_id = '{run_id}'")[0][0] == str(len(a["measurements"]))
    # A completed run has nothing to resume.
    again = zhil("resume", run_id, "--db", store)
    assert again.returncode == 2 and "completed (PASS)" in again.stderr, again.stderr


def test_a_run_interrupted_with_ctrl_c_resumes_from_its_checkpoint_not_from_its_safe_state(tmp_path):
    store = str(tmp_path / "results.db")
    through = zhil("run", STRIP, "--out", tmp_path / "through", "--db", store, "--checkpoint-every", "12 h")
    assert through.returncode == 0, through.stderr
    p, run_id = start("run", STRIP, "--out", tmp_path / "stopped", "--db", store, "--checkpoint-every", "12 h")
    try:
        wait_for_checkpoint(p, store, run_id, 2)
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=300)
    assert p.returncode == 2
    stopped = json.loads((tmp_path / "stopped" / "record.json").read_text())
    assert stopped["verdict"] == "ABORTED"
    assert stopped["safe_state"] and all(s["verified"] for s in stopped["safe_state"])
    r = zhil("resume", run_id, "--db", store)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "stopped" / "timeseries.csv").read_bytes() == (tmp_path / "through" / "timeseries.csv").read_bytes()


def lost_pack_scenario(tmp_path, name="lost"):
    # The pack's link dies at 40 min: the run ends ERROR (device lost), after two checkpoints.
    f = tmp_path / f"{name}.yaml"
    f.write_text("""scenario: lost-pack
station: simulated
duration: 2 h
record_interval: 60 s
record: [grid.p_import, pack1.soc]
timeline:
  - {at: 40 min, fault: {device: pack1, kind: comm_loss}}
checks:
  - {name: no_unserved_load, always: "hall.p_unserved < 1"}
""")
    return f


def test_resume_refuses_what_it_cannot_continue_exactly(tmp_path):
    store = str(tmp_path / "results.db")
    sc = lost_pack_scenario(tmp_path)
    r = zhil("run", sc, "--out", tmp_path / "lost", "--db", store, "--checkpoint-every", "15 min")
    assert r.returncode == 2 and "simulated communication loss" in r.stdout, r.stdout + r.stderr
    run_id = r.stdout.split("started run ")[1].split()[0]
    assert query(store, f"SELECT verdict FROM runs WHERE run_id = '{run_id}'") == [("ERROR",)]
    # The scenario changed since: refused, nothing touched.
    before = (tmp_path / "lost" / "timeseries.csv").read_bytes()
    sc.write_text(sc.read_text().replace("duration: 2 h", "duration: 3 h"))
    changed = zhil("resume", run_id, "--db", store)
    assert changed.returncode == 2 and "has changed since run" in changed.stdout + changed.stderr, changed.stdout + changed.stderr
    assert (tmp_path / "lost" / "timeseries.csv").read_bytes() == before
    sc.write_text(sc.read_text().replace("duration: 3 h", "duration: 2 h"))
    # A file the scenario reads (a load trace) changed since: refused too.
    trace = tmp_path / "trace.csv"
    trace.write_text("t,value\n0,800000\n3600,1000000\n")
    traced = lost_pack_scenario(tmp_path, "traced")
    traced.write_text(traced.read_text().replace("timeline:\n", "timeline:\n  - {at: 0 s, load: {profile: csv, file: trace.csv}}\n"))
    t = zhil("run", traced, "--out", tmp_path / "traced-out", "--db", store, "--checkpoint-every", "15 min")
    assert t.returncode == 2 and "simulated communication loss" in t.stdout, t.stdout + t.stderr
    traced_id = t.stdout.split("started run ")[1].split()[0]
    trace.write_text("t,value\n0,800000\n3600,1100000\n")
    moved = zhil("resume", traced_id, "--db", store)
    assert moved.returncode == 2 and "trace.csv has changed since run" in moved.stdout + moved.stderr, moved.stdout + moved.stderr
    # Unknown runs, runs without checkpoints, checkpoints without a store, stations that cannot.
    assert zhil("resume", "nope", "--db", store).returncode == 2
    plain = zhil("run", lost_pack_scenario(tmp_path, "plain"), "--out", tmp_path / "plain", "--db", store)
    plain_id = plain.stdout.split("started run ")[1].split()[0]
    no_cp = zhil("resume", plain_id, "--db", store)
    assert no_cp.returncode == 2 and "no checkpoint" in no_cp.stderr, no_cp.stderr
    no_db = zhil("run", sc, "--no-db", "--checkpoint-every", "1 h", "--out", tmp_path / "x")
    assert no_db.returncode == 2 and "--no-db" in no_db.stderr
    modbus = zhil("run", ROOT / "scenarios/modbus-faults/delay.yaml", "--db", store, "--checkpoint-every", "1 min",
                  "--out", tmp_path / "m")
    assert modbus.returncode == 2 and "cannot save its state between cycles" in modbus.stderr, modbus.stderr


def test_a_real_time_run_resumes_with_its_bench_brought_up_again_from_its_safe_state(tmp_path):
    store = str(tmp_path / "results.db")
    sc = tmp_path / "rt.yaml"
    sc.write_text("""scenario: rt-resume
station: simulated
duration: 6 s
record_interval: 100 ms
record: [grid.p_import, inv1.p_set.applied, pack1.soc]
timeline:
  - {at: 1 s, load: {power: 1.3 MW}}
  - {at: 5 s, load: {power: 900 kW}}
checks:
  - {name: no_unserved_load, always: "hall.p_unserved < 1"}
""")
    p, run_id = start("run", sc, "--realtime", "--out", tmp_path / "rt", "--db", store, "--checkpoint-every", "1 s")
    try:
        wait_for_checkpoint(p, store, run_id, 2)
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
    stopped = json.loads((tmp_path / "rt" / "record.json").read_text())
    assert stopped["verdict"] == "ABORTED" and all(s["verified"] for s in stopped["safe_state"])
    r = zhil("resume", run_id, "--db", store, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    rec = json.loads((tmp_path / "rt" / "record.json").read_text())
    assert rec["verdict"] == "PASS" and rec["mode"] == "real-time" and all(s["verified"] for s in rec["safe_state"])
    assert any(e["what"].startswith("resumed from checkpoint") for e in rec["events"])
    # The time series goes on from the checkpoint's row: times strictly increasing to the end.
    with open(tmp_path / "rt" / "timeseries.csv") as f:
        t = [float(row["t"]) for row in csv.DictReader(f)]
    assert all(b > a for a, b in zip(t, t[1:])) and t[0] == 0 and t[-1] == pytest.approx(6.0)
    assert rec["timeseries"]["rows"] == len(t)
