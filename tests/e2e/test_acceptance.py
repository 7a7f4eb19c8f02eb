"""The acceptance gate as manufacturing runs it: zhil accept per serial, its three exit codes, the
evidence it keeps, limit sets and their hashes, and many packs in one run."""
import hashlib
import json
import os
import pathlib
import shutil
import sqlite3
import subprocess

import pytest

from conftest import ROOT, ZHIL

PRODUCT = "zh-160kwh-16s"


def accept(*args, cwd, env=None, timeout=900):
    return subprocess.run([ZHIL, "accept", "--product", PRODUCT, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def station_with(tmp_path, name, edit):
    """A copy of an acceptance station, edited, in the fixtures folder so its relative paths hold."""
    text = (ROOT / "fixtures/stations" / name).read_text()
    edited = edit(text)
    assert edited != text
    f = tmp_path / name
    f.write_text(edited.replace("../packs/", str(ROOT / "fixtures/packs") + "/")
                 .replace("../inverters/", str(ROOT / "fixtures/inverters") + "/"))
    return f


def test_zhil_list_products_names_the_variants(zhil):
    r = zhil("list", "products")
    assert r.returncode == 0, r.stderr
    assert PRODUCT in r.stdout and "version" in r.stdout


def test_a_good_pack_ships_with_its_evidence_and_a_second_attempt_keeps_the_first(tmp_path):
    db = tmp_path / "store.db"
    r = accept("--serial", "ZH-0001", "--db", db, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SHIP  ZH-0001" in r.stdout
    bundle = tmp_path / "acceptance/ZH-0001/attempt-1"
    for f in ("record.json", "junit.xml", "timeseries.csv", "scenario.yaml", "limits.yaml", "station.yaml",
              "evidence.json"):
        assert (bundle / f).is_file(), f
    ev = json.loads((bundle / "evidence.json").read_text())
    assert ev["decision"] == "SHIP" and ev["serial"] == "ZH-0001" and ev["identity_read"] == "ZH-0001"
    limits = ROOT / "fixtures/limits" / f"{PRODUCT}.yaml"
    assert ev["limit_set"]["sha256"] == sha256(limits) == ev["sha256"]["limit_set"]
    assert ev["sha256"]["station"] == sha256(ROOT / "fixtures/stations/acceptance-zh-160kwh-16s.yaml")
    for name in ("record.json", "timeseries.csv", "scenario.yaml", "limits.yaml"):
        assert ev["sha256"]["bundle:" + name] == sha256(bundle / name), name
    rec = json.loads((bundle / "record.json").read_text())
    assert rec["verdict"] == "PASS" and rec["dut_serial"] == "ZH-0001"
    assert rec["metadata"]["limit_set_version"] and rec["metadata"]["limit_set_sha256"] == sha256(limits)
    names = {m["name"] for m in rec["measurements"]}
    assert {"pack1.capacity", "pack1.round_trip_efficiency", "pack1.strip_completion",
            "pack1.internal_short_alarm_response", "pack1.over_temperature_trip"} <= names
    cap = next(m for m in rec["measurements"] if m["name"] == "pack1.capacity")
    assert cap["low"] == 115000 and cap["unit"] == "Wh" and cap["verdict"] == "PASS"
    junit = (bundle / "junit.xml").read_text()
    assert 'name="limit_set_sha256"' in junit and 'name="dut_serial" value="ZH-0001"' in junit
    # Again: a second attempt, the first kept as it was.
    first = (bundle / "record.json").read_bytes()
    assert accept("--serial", "ZH-0001", "--db", db, cwd=tmp_path).returncode == 0
    assert (tmp_path / "acceptance/ZH-0001/attempt-2/record.json").is_file()
    assert (bundle / "record.json").read_bytes() == first
    con = sqlite3.connect(db)
    rows = con.execute("SELECT r.kind, r.product, r.limit_set_sha256, d.serial, d.verdict FROM runs r "
                       "JOIN run_duts d ON d.run_id = r.run_id").fetchall()
    assert rows == [("accept", PRODUCT, sha256(limits), "ZH-0001", "PASS")] * 2


def test_a_faded_pack_is_refused_naming_its_capacity(tmp_path):
    r = accept("--serial", "ZH-FADED", "--station", ROOT / "fixtures/stations/faded-pack.yaml", "--no-db", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "NO-SHIP  ZH-FADED" in r.stdout
    line = next(l for l in r.stdout.splitlines() if "capacity" in l)
    assert "below its low limit 115 kWh" in line and "limit set zh-160kwh-16s v" in line, line
    ev = json.loads((tmp_path / "acceptance/ZH-FADED/attempt-1/evidence.json").read_text())
    assert ev["decision"] == "NO-SHIP"
    assert [f["measurement"] for f in ev["failing"]] == ["pack1.capacity"]


def test_a_pack_that_is_not_the_serial_given_stops_the_gate(tmp_path):
    station = station_with(tmp_path, "acceptance-zh-160kwh-16s.yaml",
                           lambda t: t.replace("params: {file: ../packs/zh-160kwh-16s.yaml}",
                                               "params: {file: ../packs/zh-160kwh-16s.yaml, serial: ZH-OTHER}"))
    r = accept("--serial", "ZH-0001", "--station", station, "--no-db", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "COULD NOT DECIDE  ZH-0001" in r.stdout and "serial mismatch: pack1 reports 'ZH-OTHER'" in r.stdout
    rec = json.loads((tmp_path / "acceptance/ZH-0001/attempt-1/record.json").read_text())
    assert rec["verdict"] == "ERROR" and rec["time"]["cycles"] == 0  # stopped before its first cycle
    assert all(s["verified"] for s in rec["safe_state"])


def test_the_serial_is_read_from_the_pack_over_modbus(tmp_path):
    r = accept("--serial", "ZH-MB-7", "--station", ROOT / "fixtures/stations/acceptance-zh-160kwh-16s-modbus.yaml",
               "--no-db", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    ev = json.loads((tmp_path / "acceptance/ZH-MB-7/attempt-1/evidence.json").read_text())
    assert ev["identity_read"] == "zhil ZH-MB-7 2.6"  # manufacturer, serial, firmware (SunSpec Mn, SN, Vr)


def test_what_cannot_be_decided_exits_2(tmp_path, zhil):
    assert accept("--serial", "A,B", "--no-db", cwd=tmp_path).returncode == 2  # one pack, two serials
    r = subprocess.run([ZHIL, "accept", "--product", "no-such-product", "--serial", "X", "--no-db"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 2 and PRODUCT in r.stderr  # names the products there are
    assert accept("--serial", "../x", "--no-db", cwd=tmp_path).returncode == 2
    # A bench that fails (its inverter does not answer, a real one on a port nothing listens on):
    # no serial decided, evidence kept.
    def dead_inverter(t):
        return t.replace("    model: inverter-simulator\n    params: {file: ../inverters/pcs-750kva.yaml, s_rated: 100 kVA, "
                         "p_rated: 100 kW, i_max: 130 A, ramp_rate: 1 MW/s,\n             no_load_loss: 200 W}\n",
                         "    model: sunspec-inverter\n    link: {type: modbus-tcp, host: 127.0.0.1, port: 1, timeout: 100 ms}\n")
    station = station_with(tmp_path, "acceptance-zh-160kwh-16s.yaml", dead_inverter)
    r = accept("--serial", "ZH-0009", "--station", station, "--no-db", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "COULD NOT DECIDE  ZH-0009" in r.stdout
    assert json.loads((tmp_path / "acceptance/ZH-0009/attempt-1/evidence.json").read_text())["verdict"] == "ERROR"


def test_many_packs_one_run_one_verdict_each(tmp_path):
    # pack2 faded: it alone is refused; the others ship.
    x4 = (ROOT / "fixtures/stations/acceptance-zh-160kwh-16s-x4.yaml").read_text()
    head, packs = x4.split("  - name: pack{i}\n")
    fixture = ROOT / "fixtures/packs/zh-160kwh-16s.yaml"
    station = tmp_path / "x4-faded.yaml"
    body = head.replace("../inverters/", str(ROOT / "fixtures/inverters") + "/")
    for k in range(1, 5):
        cap = ", capacity: 157.25 Ah" if k == 2 else ""
        body += (f"  - name: pack{k}\n    role: pack\n    model: pack-simulator\n"
                 f"    params: {{file: {fixture}{cap}}}\n"
                 f"    limits: {{i_charge_max: 60 A, i_discharge_max: 95 A, soc_min: 5 %, soc_max: 97 %, t_max: 58 degC}}\n")
    station.write_text(body)
    db = tmp_path / "store.db"
    r = accept("--serial", "S1,S2,S3,S4", "--station", station, "--db", db, cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = [l for l in r.stdout.splitlines() if l.startswith(("SHIP", "NO-SHIP", "COULD"))]
    assert [l.split()[0] + " " + l.split()[1] for l in lines] == ["SHIP S1", "NO-SHIP S2", "SHIP S3", "SHIP S4"]
    for serial, verdict in (("S1", "PASS"), ("S2", "FAIL")):
        rec = json.loads((tmp_path / f"acceptance/{serial}/attempt-1/record.json").read_text())
        assert rec["verdict"] == verdict and rec["dut_serial"] == serial
        own = "pack1" if serial == "S1" else "pack2"
        assert rec["measurements"] and all(m["name"].startswith(own + ".") for m in rec["measurements"])
    con = sqlite3.connect(db)
    assert con.execute("SELECT serial, position, verdict FROM run_duts ORDER BY serial").fetchall() == [
        ("S1", "pack1", "PASS"), ("S2", "pack2", "FAIL"), ("S3", "pack3", "PASS"), ("S4", "pack4", "PASS")]
    assert con.execute("SELECT dut_serial FROM measurements WHERE name = 'pack2.capacity'").fetchone() == ("S2",)


def test_limit_sets_are_hashed_and_a_changed_limit_shows(tmp_path):
    # A project root of our own with the product's limits tightened (same version: the hash tells).
    root = tmp_path / "root"
    shutil.copytree(ROOT / "fixtures", root / "fixtures")
    shutil.copytree(ROOT / "scenarios", root / "scenarios")
    limits = root / "fixtures/limits" / f"{PRODUCT}.yaml"
    limits.write_text(limits.read_text().replace("capacity: {low: 115 kWh, marginal_low: 121 kWh}",
                                                 "capacity: {low: 150 kWh, marginal_low: 155 kWh}"))
    env = dict(os.environ, ZHIL_ROOT=str(root))
    r = accept("--serial", "ZH-T", "--no-db", cwd=tmp_path, env=env)
    assert r.returncode == 1 and "below its low limit 150 kWh" in r.stdout, r.stdout + r.stderr
    ev = json.loads((tmp_path / "acceptance/ZH-T/attempt-1/evidence.json").read_text())
    assert ev["limit_set"]["sha256"] == sha256(limits) != sha256(ROOT / "fixtures/limits" / f"{PRODUCT}.yaml")
    # A limit for a measurement the sequence does not make is refused where it is written.
    limits.write_text(limits.read_text().replace("limits:\n", "limits:\n  no_such_measurement: {low: 1 W}\n", 1))
    r = accept("--serial", "ZH-T", "--no-db", cwd=tmp_path, env=env)
    assert r.returncode == 2 and f"{PRODUCT}.yaml:" in r.stderr and "no_such_measurement" in r.stderr, r.stderr


@pytest.mark.skipif(not os.environ.get("ZHIL_TEST_POSTGRES_URI_FILE"), reason="no PostgreSQL server (ctest starts one)")
def test_the_gate_writes_to_postgresql(tmp_path):
    uri = pathlib.Path(os.environ["ZHIL_TEST_POSTGRES_URI_FILE"]).read_text().strip()
    # A database of the test's own on the shared server.
    dbname = f"accept_{os.getpid()}"
    subprocess.run(["psql", uri, "-qc", f"CREATE DATABASE {dbname}"], check=True, capture_output=True)
    own = uri.rsplit("/", 1)[0] + "/" + dbname
    assert accept("--serial", "PG-1", "--db", own, cwd=tmp_path).returncode == 0
    r = subprocess.run([ZHIL, "results", "list", "--serial", "PG-1", "--db", own], capture_output=True, text=True)
    assert r.returncode == 0 and "accept" in r.stdout and "PASS" in r.stdout, r.stdout + r.stderr
