"""The zhil Python API: stations, scenarios loaded and built, runs driven step by step, signals,
faults, records, time series, errors."""
import json
import os
import threading

import pandas
import pytest

import zhil

SCENARIO = "scenarios/grid-outage-island.yaml"


def test_import_from_the_build_tree(root):
    assert zhil.__file__.endswith("python/zhil/__init__.py")
    assert zhil.project_root() == str(root)
    assert "reference" in zhil.core_names()


def test_station_and_scenario_load(root):
    st = zhil.Station.load("simulated")
    assert st.name == "simulated" and st.simulated and st.core == "reference"
    assert "pack1" in st.with_role("pack") and len(st.devices) == 20
    sc = zhil.Scenario.load(root / SCENARIO)
    assert sc.name == "grid-outage-island" and sc.duration == 2700 and sc.seed == 11
    assert "no_unserved_load" in sc.checks and sc.measurements == ["energy_from_packs_in_island", "lowest_pack_soc"]


def test_load_errors_are_typed_and_located(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: x\nduration: 1 min\nchecks:\n  - name: c\n    alwys: 'a < 1'\n")
    with pytest.raises(zhil.ScenarioError) as e:
        zhil.Scenario.load(bad)
    assert e.value.file == str(bad) and e.value.line == 5 and e.value.column == 5
    assert "alwys" in str(e.value) and isinstance(e.value, zhil.ConfigError)
    st = tmp_path / "st.yaml"
    st.write_text("station: s\ncore: {name: reference}\ncycle: 5 parsecs\ndevices: []\n")
    with pytest.raises(zhil.StationError) as e:
        zhil.Station.load(st)
    assert e.value.file == str(st) and e.value.line == 3 and "parsecs" in str(e.value)


def test_a_built_scenario_error_names_the_python_line():
    sc = zhil.Scenario("bad-unit", duration="1 min", station="bench-1pack")
    sc.check("ok", always="hall.p >= 0")
    line = __import__("inspect").currentframe().f_lineno + 1
    sc.measure("m", "pack1.soc", unit="furlongs", aggregate="max")
    with pytest.raises(zhil.ScenarioError) as e:
        zhil.run(sc)
    assert f"test_api.py:{line}: " in str(e.value) and "furlongs" in str(e.value)


def test_an_unknown_signal_is_refused_before_anything_runs(tmp_path):
    sc = zhil.Scenario("unknown-signal", duration="1 min", station="bench-1pack")
    line = __import__("inspect").currentframe().f_lineno + 1
    sc.check("c", always="pack9.soc > 0")
    with pytest.raises(zhil.ScenarioError) as e:
        zhil.run(sc, out=tmp_path / "out")
    assert f"test_api.py:{line}: " in str(e.value) and "pack9.soc" in str(e.value)
    assert not (tmp_path / "out").exists()  # nothing created by a run that could not start


def test_a_run_driven_step_by_step(tmp_path, root):
    with zhil.run(root / SCENARIO, out=tmp_path / "out") as run:
        assert run.time == 0 and run.cycles == 0
        assert run.step() and run.cycles == 1
        run.until("10 min")
        assert run.time == 600
        soc = run.signal("pack1.soc")
        assert soc.unit == "1" and soc.quality == "good" and soc.kind == "measurement" and 0 < soc.value < 1
        socs = run.signals("pack?.soc")  # a glob as in a scenario's record: patterns
        assert sorted(socs) == [f"pack{k}.soc" for k in range(1, 10)] and all(isinstance(s, zhil.Signal) for s in socs.values())
        assert run.record is None  # not finished yet
        rec = run.run_to_end()
    assert rec.verdict == "PASS" and rec.safe and run.record is rec
    assert rec.path == str(tmp_path / "out" / "record.json")
    assert rec.measurement("lowest_pack_soc").unit == "1"
    with pytest.raises(zhil.SignalError):
        run.signal("no.such_signal")


def test_the_time_series_is_the_csv(tmp_path, root):
    with zhil.run(root / SCENARIO, out=tmp_path / "out") as run:
        run.until(60)
        early = run.timeseries()
        assert early.index[-1] == 60 and len(early) == 61  # record_interval 1 s
        run.run_to_end()
    df = run.timeseries()
    csv = pandas.read_csv(tmp_path / "out" / "timeseries.csv", index_col="t", dtype=float, float_precision="round_trip")
    csv.index = csv.index.astype(float)
    assert list(df.columns) == list(csv.columns) and df.shape == csv.shape
    pandas.testing.assert_frame_equal(df, csv, check_exact=True)


def test_set_inject_and_clear_act_now_and_are_recorded(tmp_path):
    sc = (zhil.Scenario("scripted-faults", duration="20 min", station="bench-1pack", seed=3, record_interval="1 s")
          .demand(0, power="60 kW")
          .check("runs", always="run.overruns >= 0"))
    with zhil.run(sc, out=tmp_path / "out") as run:
        run.until("1 min")
        run.set("grid.f_set", "59.5 Hz")
        run.step()
        assert run.signal("grid.f").value == pytest.approx(59.5, abs=0.01)
        t_before = run.signal("pack1.t_max").value
        run.inject("pack1", "cooling_loss", factor=20)
        run.until("10 min")
        assert run.signal("pack1.fault.cooling_loss").value == 20
        assert run.signal("pack1.t_max").value > t_before
        run.clear("pack1", "cooling_loss")
        run.step()
        assert run.signal("pack1.fault.cooling_loss").value == 0
        run.event(load={"power": "30 kW"})
        run.step()
        assert run.signal("hall.p_demand").value == pytest.approx(30e3)
        with pytest.raises(zhil.ScenarioError) as e:
            run.inject("pack7", "cooling_loss")
        assert "test_api.py:" in str(e.value) and "pack7" in str(e.value)
        with pytest.raises(zhil.ScenarioError) as e:
            run.set("grid.f_set", "200 Hz")  # outside the physical range a scenario may set
        rec = run.run_to_end()
    assert rec.verdict == "PASS"
    what = [e.what for e in rec.events]
    assert any(w.startswith("host: set grid.f_set") for w in what)
    assert any(w.startswith("host: inject cooling_loss on pack1 (factor=20)") for w in what)
    assert any(w.startswith("host: clear cooling_loss on pack1") for w in what)
    # The built scenario is kept with its results.
    assert (tmp_path / "out" / "scenario.yaml").read_text() == sc.to_yaml()
    assert json.loads((tmp_path / "out" / "record.json").read_text())["scenario"]["file"].endswith("scenario.yaml")


def test_leaving_the_block_early_aborts_and_makes_the_bench_safe(tmp_path, root):
    with zhil.run(root / SCENARIO, out=tmp_path / "a") as run:
        run.until(30)
    assert run.record.verdict == "ABORTED" and run.record.safe
    assert "before the scenario's end" in run.record.error


def test_an_exception_in_the_script_is_an_error_with_its_traceback(tmp_path, root):
    with pytest.raises(RuntimeError, match="script broke"):
        with zhil.run(root / SCENARIO, out=tmp_path / "e") as run:
            run.until(5)
            raise RuntimeError("script broke")
    rec = run.record
    assert rec.verdict == "ERROR" and rec.safe
    assert "Python script raised" in rec.error and "RuntimeError: script broke" in rec.error
    assert "test_api.py" in rec.error
    assert all(s.verified for s in rec.safe_state)


def test_the_loop_runs_without_the_gil(tmp_path, root):
    # A Python thread keeps running while the C++ loop runs: the GIL is not held there.
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    with zhil.run(root / SCENARIO, out=tmp_path / "g") as run:
        t = threading.Thread(target=count, daemon=True)
        t.start()
        try:
            start = counter[0]
            run.until(1500)
            during = counter[0] - start
        finally:
            stop.set()
            t.join()
    assert during > 1000, during


def test_two_runs_at_once_on_can_benches_keep_their_buses_apart(tmp_path):
    sc = (zhil.Scenario("two-can-runs", duration="30 s", station="bench-1pack-can", record_interval="1 s")
          .demand(0, power="50 kW").check("comms", always="run.pack1.comm_ok == 1", from_="2 s"))
    a = zhil.run(sc, out=tmp_path / "a")
    b = zhil.run(sc, out=tmp_path / "b")
    with a, b:
        while a.step() | b.step():
            pass
    assert a.record.verdict == "PASS" and b.record.verdict == "PASS"
    la = (tmp_path / "a" / "can-can-pack1.log").read_text()
    lb = (tmp_path / "b" / "can-can-pack1.log").read_text()
    assert la == lb and len(la.splitlines()) > 100  # the same frames, each run's own, none twice


@pytest.mark.parametrize("asked", [True, None])
def test_progress_only_when_asked(python_script, root, asked):
    p = python_script(f"import zhil\nzhil.run({str(root / SCENARIO)!r}, out='p', progress={asked}).run_to_end()\n")
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    if asked:
        assert "grid-outage-island: t=" in err and "x real time" in err and "ETA" in err
    else:
        assert err == ""  # stderr is not a terminal here: quiet


def test_a_device_that_cannot_be_reached_is_a_device_error_naming_it_and_its_register(tmp_path, root):
    st = tmp_path / "bench.yaml"
    st.write_text(f"""station: unreachable-inverter
core: {{name: reference}}
devices:
  - {{name: grid, role: grid, model: grid-simulator}}
  - {{name: hall, role: load, model: load-simulator, params: {{power: 80 kW}}}}
  - {{name: inv1, role: inverter, model: sunspec-inverter, link: {{type: modbus-tcp, host: 127.0.0.1, port: 1, timeout: 100 ms}},
     packs: [pack1], limits: {{p_discharge_max: 100 kW, p_charge_max: 100 kW, s_max: 100 kVA}}}}
  - {{name: pack1, role: pack, model: pack-simulator, params: {{file: {root}/fixtures/packs/zh-160kwh-16s.yaml}},
     limits: {{i_charge_max: 60 A, i_discharge_max: 95 A, soc_min: 5 %, soc_max: 97 %, t_max: 50 degC}}}}
""")
    sc = zhil.Scenario("unreachable", duration="10 s", station=str(st)).check("c", always="hall.p >= 0")
    with pytest.raises(zhil.DeviceError) as e:
        zhil.run(sc, realtime=True, out=tmp_path / "out")
    assert e.value.device == "inv1" and e.value.register == 40000
    assert "Connection refused" in str(e.value) and "SunSpec discovery" in str(e.value)
    rec = zhil.Record.load(tmp_path / "out" / "record.json")  # the record says why, and what was made safe
    assert rec.verdict == "ERROR"
    safe = {s.device: s.verified for s in rec.safe_state}
    # The others were made safe and read back; the inverter, unreachable, is reported as not verified.
    assert safe == {"grid": True, "hall": True, "inv1": False, "pack1": True}, rec.safe_state


def test_a_finished_run_lets_go_of_its_folder_so_the_next_run_can_use_it(tmp_path, root):
    for k in range(3):  # `run` still names the previous run while the next one claims the folder
        with zhil.run(root / SCENARIO, out=tmp_path / "same", overwrite=True) as run:
            run.until(10 * (k + 1))
    assert run.record.verdict == "ABORTED" and run.record.end_time == 30
    assert run.signal("pack1.soc").quality == "good" and run.time == 30  # last values stay readable


def test_a_scenario_that_cannot_start_leaves_earlier_results_alone(tmp_path, root):
    with zhil.run(root / SCENARIO, out=tmp_path / "kept") as run:
        run.until(1)
    before = (tmp_path / "kept" / "record.json").read_text()
    bad = zhil.Scenario("bad", duration="1 min", station="bench-1pack").check("c", always="pack9.soc > 0")
    with pytest.raises(zhil.ScenarioError):
        zhil.run(bad, out=tmp_path / "kept", overwrite=True)
    assert (tmp_path / "kept" / "record.json").read_text() == before


def test_one_call_at_a_time(tmp_path):
    holder = {}

    class Meddles(zhil.ControlCore):
        def configure(self, context, io):
            pass

        def step(self, t, io):
            holder["run"].signal("pack1.soc")  # re-entering the run from inside its own loop

    sc = zhil.Scenario("meddles", duration="10 s", station="bench-1pack").check("c", always="hall.p >= 0")
    with zhil.run(sc, core=Meddles(), out=tmp_path / "out") as run:
        holder["run"] = run
        with pytest.raises(zhil.ControlCoreError, match="busy in another call"):
            run.run_to_end()
    assert run.record.verdict == "ERROR"
    with pytest.raises(ValueError):
        run.until(float("nan"))


def test_a_python_run_goes_into_the_results_store_as_it_runs(tmp_path, root):
    import sqlite3
    db = tmp_path / "store.db"
    with zhil.run(root / SCENARIO, out=tmp_path / "out", dut_serial="ZH-PY-1", db=str(db)) as run:
        run.until("1 min")
        # Committed when the run started, not at its end.
        row = sqlite3.connect(db).execute("SELECT kind, verdict FROM runs").fetchone()
        assert row == ("python", "RUNNING")
        rec = run.run_to_end()
    con = sqlite3.connect(db)
    assert con.execute("SELECT run_id, verdict FROM runs").fetchall() == [(rec.run_id, rec.verdict)]
    assert con.execute("SELECT serial, verdict FROM run_duts").fetchall() == [("ZH-PY-1", rec.verdict)]
    sha = dict(con.execute("SELECT kind, sha256 FROM artifacts").fetchall())
    import hashlib
    assert sha["record"] == hashlib.sha256((tmp_path / "out" / "record.json").read_bytes()).hexdigest()
    # db="" keeps the results folder only; a store that cannot be opened stops before anything runs.
    zhil.run(root / SCENARIO, out=tmp_path / "out2", db="").run_to_end()
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(zhil.ResultsStoreError, match="a-file"):
        zhil.run(root / SCENARIO, out=tmp_path / "out3", db=str(tmp_path / "a-file" / "store.db"))
    assert not (tmp_path / "out3").exists()


def test_a_python_run_serves_its_live_view(tmp_path, root):
    # Driven step by step from Python, the live view is what zhil run --serve serves: the page, and
    # the frames over its WebSocket (here read with a bare HTTP client: the browser test is e2e's).
    import socket
    import urllib.request
    with zhil.run(root / SCENARIO, out=tmp_path / "out", serve="127.0.0.1:0") as run:
        url = run.live_url
        assert url.startswith("http://127.0.0.1:") and "token" not in url
        run.until("1 min")
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        assert "<!DOCTYPE html>" in page and 'id="verdict"' in page
        port = int(url.split(":")[2].rstrip("/"))
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        got = b""
        while b'"names"' not in got:
            chunk = s.recv(65536)
            assert chunk, "the live view closed before its first frame"
            got += chunk
        assert b"101 Switching Protocols" in got
        s.close()
        run.run_to_end()
    with pytest.raises(ValueError):
        zhil.run(root / SCENARIO, out=tmp_path / "bad", serve="nowhere")
