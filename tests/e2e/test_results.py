"""The results store as a lab uses it: every zhil run lands in it (SQLite by default, PostgreSQL for
many stations), committed as the run goes; a run killed with kill -9 loses nothing committed and is
marked ABORTED when the store is next opened; zhil results list / show / export answer from it."""
import csv
import io
import os
import pathlib
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import ROOT, ZHIL


def backends():
    yield "sqlite"
    yield pytest.param("postgresql", marks=pytest.mark.skipif(
        not os.environ.get("ZHIL_TEST_POSTGRES_URI_FILE"), reason="no PostgreSQL server (ctest starts one)"))


@pytest.fixture(params=list(backends()))
def store(request, tmp_path):
    """A store of the test's own: a SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "results.db")
    uri = pathlib.Path(os.environ["ZHIL_TEST_POSTGRES_URI_FILE"]).read_text().strip()
    name = f"e2e_{os.getpid()}_{request.node.name}".lower().replace("[", "_").replace("]", "").replace("-", "_")
    subprocess.run(["psql", uri, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True, capture_output=True)
    subprocess.run(["psql", uri, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return uri.rsplit("/", 1)[0] + "/" + name


def query(store, sql):
    if store.startswith("postgresql://"):
        out = subprocess.run(["psql", store, "-AtF", "|", "-c", sql], check=True, capture_output=True, text=True).stdout
        return [tuple(line.split("|")) for line in out.splitlines() if line]
    return [tuple("" if v is None else str(v) for v in row) for row in sqlite3.connect(store).execute(sql).fetchall()]


def results(*args, store):
    return subprocess.run([ZHIL, "results", *map(str, args), "--db", store], capture_output=True, text=True, timeout=120)


def scenario(tmp_path, duration="2 min", checks=None, name="small"):
    f = tmp_path / f"{name}.yaml"
    f.write_text(f"""scenario: {name}
station: simulated
duration: {duration}
record_interval: 60 s
record: [grid.p_import]
timeline:
  - {{at: 1 s, load: {{power: 900 kW}}}}
  - {{at: 2 s, grid: {{frequency: 60.1 Hz}}}}
checks:
{checks or '  - {name: no_unserved_load, always: "hall.p_unserved < 1"}'}
""")
    return f


def test_every_run_lands_in_the_store_and_can_be_queried(tmp_path, store):
    sc = scenario(tmp_path)
    r = subprocess.run([ZHIL, "run", sc, "--out", tmp_path / "out", "--db", store, "--dut-serial", "ZH-Q-1"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    run_id = r.stdout.split("started run ")[1].split()[0]
    lst = results("list", "--serial", "ZH-Q-1", store=store)
    assert lst.returncode == 0 and run_id in lst.stdout and "PASS" in lst.stdout, lst.stdout + lst.stderr
    assert results("list", "--serial", "nobody", store=store).returncode == 1
    assert run_id in results("list", "--station", "simulated", "--since", "2020-01-01", "--verdict", "PASS",
                             store=store).stdout
    show = results("show", run_id[:12], store=store)
    assert show.returncode == 0, show.stderr
    for text in ("verdict             PASS", "ZH-Q-1", "no_unserved_load", "timeline: hall.p_demand_set = 900000",
                 "timeseries.csv", "record.json"):
        assert text in show.stdout, (text, show.stdout)
    # The artifacts' hashes are the files'.
    import hashlib
    sha = dict(query(store, f"SELECT kind, sha256 FROM artifacts WHERE run_id = '{run_id}'"))
    assert sha["record"] == hashlib.sha256((tmp_path / "out/record.json").read_bytes()).hexdigest()
    assert sha["timeseries"] == hashlib.sha256((tmp_path / "out/timeseries.csv").read_bytes()).hexdigest()
    # A run with --no-db does not go in; a suite's runs do, as kind suite.
    sc2 = scenario(tmp_path, name="other")
    assert subprocess.run([ZHIL, "run", sc2, "--out", tmp_path / "o2", "--no-db", "--db", store],
                          capture_output=True, cwd=ROOT).returncode == 0
    assert query(store, "SELECT COUNT(*) FROM runs") == [("1",)]
    suite = tmp_path / "suite.yaml"
    suite.write_text("suite: store-suite\nscenarios:\n  - {file: other.yaml}\n")
    r = subprocess.run([ZHIL, "suite", suite, "--out", tmp_path / "suite-out", "--db", store], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert query(store, "SELECT kind, scenario, verdict FROM runs WHERE kind = 'suite'") == [("suite", "other", "PASS")]


def test_export_writes_measurements_as_csv(tmp_path, store):
    sc = tmp_path / "m.yaml"
    sc.write_text(scenario(tmp_path).read_text() + "measurements:\n"
                  "  - {name: peak_import, signal: grid.p_import, aggregate: max, unit: W, high: 2 MW, marginal_high: 1.5 kW}\n")
    assert subprocess.run([ZHIL, "run", sc, "--out", tmp_path / "out", "--db", store, "--dut-serial", "ZH-E"],
                          capture_output=True, cwd=ROOT).returncode == 0
    out = tmp_path / "export.csv"
    r = results("export", "--serial", "ZH-E", "-o", out, store=store)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 1
    row = rows[0]
    assert row["dut_serial"] == "ZH-E" and row["measurement"] == "peak_import" and row["unit"] == "W"
    assert float(row["high"]) == 2e6 and row["verdict"] == "PASS" and row["marginal"] == "1"  # above 1.5 kW: marginal
    summary = results("summary", store=store)
    assert summary.returncode == 0 and "simulated" in summary.stdout and "PASS" in summary.stdout


def test_a_run_killed_with_kill_9_keeps_what_it_committed_and_is_marked_aborted(tmp_path, store):
    # A long run whose check fails at once: the failure and the timeline's events are committed as
    # they happen, then the process is killed outright.
    sc = scenario(tmp_path, duration="30 d", checks='  - {name: frequency_never_moves, always: "grid.f < 60.05"}',
                  name="long")
    p = subprocess.Popen([ZHIL, "run", sc, "--out", tmp_path / "out", "--db", store, "--dut-serial", "ZH-K"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = p.stdout.readline()
        assert line.startswith("started run "), line + p.stderr.read()
        run_id = line.split()[2]
        # Wait (with a deadline) until the check's failure is in the store: committed during the run.
        deadline = time.monotonic() + 120
        while not query(store, f"SELECT outcome FROM checks WHERE run_id = '{run_id}'"):
            assert time.monotonic() < deadline and p.poll() is None, "the failure never reached the store"
            time.sleep(0.05)
        assert query(store, f"SELECT verdict FROM runs WHERE run_id = '{run_id}'") == [("RUNNING",)]
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert p.returncode == -signal.SIGKILL
    # The next time the store is opened (here by a query), the run is found dead and marked.
    deadline = time.monotonic() + 60
    while True:
        lst = results("list", "--verdict", "ABORTED", store=store)
        if run_id in lst.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.1)  # PostgreSQL notices the dead client's connection on its own time
    assert run_id in lst.stdout, lst.stdout + lst.stderr
    show = results("show", run_id, store=store).stdout
    assert "verdict             ABORTED" in show and "ABORTED  ZH-K" in show, show
    assert "FAIL       frequency_never_moves" in show, show  # the failure committed before the kill
    assert "timeline: grid.f_set = 60.1" in show, show


def test_two_stations_writing_at_once_lose_nothing(tmp_path, store):
    sc = scenario(tmp_path, duration="30 s")
    runs = 6
    errors = []

    def station(name):
        for k in range(runs):
            r = subprocess.run([ZHIL, "run", sc, "--out", tmp_path / f"{name}-{k}", "--db", store,
                                "--dut-serial", f"{name}-{k}"], capture_output=True, text=True, cwd=ROOT)
            if r.returncode != 0:
                errors.append(r.stdout + r.stderr)

    threads = [threading.Thread(target=station, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert query(store, "SELECT verdict, COUNT(*) FROM runs GROUP BY verdict") == [("PASS", str(2 * runs))]
    per_run = query(store, "SELECT COUNT(*) FROM events GROUP BY run_id")
    assert len(per_run) == 2 * runs and len(set(per_run)) == 1  # every run has all its events
    assert query(store, "SELECT COUNT(*) FROM run_duts") == [(str(2 * runs),)]


def test_a_store_that_cannot_be_opened_stops_the_run_before_anything_is_created(tmp_path):
    (tmp_path / "a-file").write_text("")
    r = subprocess.run([ZHIL, "run", scenario(tmp_path), "--out", tmp_path / "out", "--db",
                        tmp_path / "a-file" / "x.db"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "a-file" in r.stderr, r.stdout + r.stderr
    assert not (tmp_path / "out").exists()
    r = subprocess.run([ZHIL, "run", scenario(tmp_path), "--out", tmp_path / "out", "--db",
                        "postgresql://nobody@127.0.0.1:1/none"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "cannot connect" in r.stderr, r.stdout + r.stderr
    assert not (tmp_path / "out").exists()
    r = results("list", store=str(tmp_path / "missing.db"))
    assert r.returncode == 2 and "no results store" in r.stderr and not (tmp_path / "missing.db").exists()
