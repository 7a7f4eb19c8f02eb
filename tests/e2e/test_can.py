"""CAN end to end: the simulated pack on virtual buses in simulated time (the suite, the fault suite,
byte-repeatable logs), its candump logs read by can-utils and by zhil can decode / replay, and
peers that zhil did not write: Debian's python3-can joining zhil's socketcand server."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, ZHIL

PY = sys.executable if sys.executable.startswith("/usr/bin") else "/usr/bin/python3"


def start(*args):
    p = subprocess.Popen([ZHIL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    line = p.stdout.readline()
    m = re.search(r"on 127\.0\.0\.1:(\d+)", line)
    assert m, line + p.stderr.read()
    return p, int(m.group(1))


def stop(p):
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    return p.returncode, out, err


def python_can(code, timeout=60):
    return subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=timeout)


def test_python_can_joins_the_simulated_pack_and_reads_its_frames(tmp_path):
    """python-can's socketcand interface (a client zhil did not write) on `zhil sim pack --socketcand`:
    it gets the pack's cyclic frames, and a command frame it builds by hand closes the contactor."""
    p, port = start("sim", "pack", "--socketcand", "127.0.0.1:0")
    try:
        r = python_can(f"""
import can, time, json
bus = can.Bus(interface="socketcand", channel="can0", host="127.0.0.1", port={port})
seen = {{}}
t0 = time.time()
while time.time() - t0 < 3 and len(seen) < 6:
    m = bus.recv(0.5)
    if m: seen.setdefault(m.arbitration_id, list(m.data))
# ZH_Command by hand (zinc-halogen-hv.dbc): bit 0 contactor request, bits 1-2 charge/discharge enable,
# 60 A / 95 A allowed in 0.1 A, counter in byte 7.
closed = None
for k in range(40):
    bus.send(can.Message(arbitration_id=0x4C8, data=[0x07, 0x58, 0x02, 0xB6, 0x03, 0, 0, k], is_extended_id=False))
    m = bus.recv(0.2)
    if m and m.arbitration_id == 0x4C2 and m.data[4] & 1:
        closed = list(m.data)
        break
bus.shutdown()
print(json.dumps({{"seen": sorted(seen), "status": seen.get(0x4C1), "closed": closed}}))
""")
    finally:
        code, out, _ = stop(p)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["seen"] == [0x4C0, 0x4C1, 0x4C2, 0x4C3, 0x4C4, 0x4C5], got
    # ZH_Status: pack voltage in 0.1 V (16 modules of 30 cells at rest: 820..900 V), SOC in 0.01 %.
    st = got["status"]
    v = (st[0] | st[1] << 8) * 0.1
    soc = (st[4] | st[5] << 8) * 0.01
    assert 820 < v < 900 and 0 < soc <= 100, st
    assert got["closed"] is not None, "the contactor never closed on the hand-built command frame"
    assert code == 0 and "SIGTERM, stopping" in out


def test_frames_built_by_hand_from_the_public_layouts_decode_to_their_values(zhil, tmp_path):
    """0x351 / 0x355 / 0x356 built by python-can from the domain brief's worked example, sent on a bus
    zhil serves, logged by zhil's socketcand client, and decoded by zhil's DBC codec."""
    p, port = start("can", "serve", "--socketcand", "127.0.0.1:0", "--bus", "lv0")
    try:
        log = tmp_path / "lv.log"
        r = python_can(f"""
import can, time
tx = can.Bus(interface="socketcand", channel="lv0", host="127.0.0.1", port={port})
rx = can.Bus(interface="socketcand", channel="lv0", host="127.0.0.1", port={port})
frames = [(0x351, bytes.fromhex("3802E803DC05B801")), (0x355, bytes([50, 0, 99, 0])),
          (0x356, bytes.fromhex("6F1483FFF6000000"))]
for i, d in frames:
    tx.send(can.Message(arbitration_id=i, data=d, is_extended_id=False))
out = []
t0 = time.time()
while len(out) < 3 and time.time() - t0 < 5:
    m = rx.recv(0.5)
    if m: out.append("(%.6f) lv0 %03X#%s" % (m.timestamp, m.arbitration_id, m.data.hex().upper()))
open("{log}", "w").write("\\n".join(out) + "\\n")
tx.shutdown(); rx.shutdown()
""")
    finally:
        stop(p)
    assert r.returncode == 0, r.stderr
    d = zhil("can", "decode", log, "--dbc", ROOT / "fixtures" / "can" / "battery-inverter-lv.dbc")
    assert d.returncode == 0, d.stderr
    values = {row.split(",")[4]: float(row.split(",")[5]) for row in d.stdout.splitlines()[1:]}
    assert values["ChargeVoltageLimit"] == pytest.approx(56.8)
    assert values["ChargeCurrentLimit"] == pytest.approx(100.0)
    assert values["DischargeCurrentLimit"] == pytest.approx(150.0)
    assert values["DischargeVoltageLimit"] == pytest.approx(44.0)
    assert values["SOC"] == 50 and values["SOH"] == 99 and "SOCHighRes" not in values  # DLC 4: absent
    assert values["BatteryVoltage"] == pytest.approx(52.31)
    assert values["BatteryCurrent"] == pytest.approx(-12.5)  # discharging
    assert values["BatteryTemperature"] == pytest.approx(24.6)


# Verdicts, not memory: 16 packs' frames through the codec run slowly under the sanitizers, and the
# same code is covered there by the fault suite and the byte-repeatability test.
@pytest.mark.skipif(os.environ.get("ZHIL_SANITIZED") == "1", reason="a behavioural comparison; minutes under the sanitizers")
def test_suite_scenario_on_virtual_can_buses_gives_the_in_process_verdicts_and_logs(zhil, tmp_path):
    verdicts = {}
    for station in ("simulated", "simulated-can"):
        out = tmp_path / station
        r = zhil("run", "scenarios/grid-outage-island.yaml", "--station", f"fixtures/stations/{station}.yaml", "--out", out,
                 timeout=900)
        assert r.returncode == 0, r.stdout + r.stderr
        rec = json.loads((out / "record.json").read_text())
        verdicts[station] = (rec["verdict"], [(c["name"], c["verdict"]) for c in rec["checks"]],
                             [(m["name"], m["verdict"]) for m in rec["measurements"]], [m["value"] for m in rec["measurements"]])
    assert verdicts["simulated"][:3] == verdicts["simulated-can"][:3]
    # The same figures within what the frames' resolution (0.1 A, 0.01 %) changes.
    assert verdicts["simulated-can"][3] == pytest.approx(verdicts["simulated"][3], rel=1e-3)
    out = tmp_path / "simulated-can"
    rec = json.loads((out / "record.json").read_text())
    pack = next(d for d in rec["devices"] if d["name"] == "pack1")
    assert pack["io"]["message timeouts"] == 0 and pack["io"]["frames received"] > 100000, pack["io"]
    assert next(s for s in rec["safe_state"] if s["device"] == "pack1")["verified"]
    assert not list(out.glob("can-*.log"))  # that station's links say log: false


def test_bus_logs_are_read_by_can_utils_and_decoded_by_zhil(zhil, tmp_path):
    out = tmp_path / "drop"
    r = zhil("run", "scenarios/can-faults/drop.yaml", "--out", out, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    log = out / "can-can-pack1.log"
    lines = log.read_text().splitlines()
    assert re.fullmatch(r"\(0\.000000\) can-pack1 4C0#[0-9A-F]{16}", lines[0]), lines[0]
    # The dropped status frames (60 s .. 62 s) are not on the bus, so not in its log.
    status_times = [float(l[1:l.index(")")]) for l in lines if " 4C1#" in l]
    assert not [t for t in status_times if 60.05 < t < 61.95] and len(status_times) > 1000
    # can-utils reads it.
    if shutil.which("log2asc"):
        asc = subprocess.run(["log2asc", "-I", str(log), "can-pack1"], capture_output=True, text=True, timeout=120)
        assert asc.returncode == 0 and " 4C1 " in asc.stdout, asc.stderr
    # zhil decodes it by the DBC: the pack's SOC within its range.
    d = subprocess.run([ZHIL, "can", "decode", str(log), "--dbc", str(ROOT / "fixtures/can/zinc-halogen-hv.dbc")],
                       capture_output=True, text=True, timeout=300)
    assert d.returncode == 0, d.stderr
    soc = [float(r.split(",")[5]) for r in d.stdout.splitlines()[1:] if ",ZH_Status,SOC," in r]
    assert len(soc) == len(status_times) and all(0 < s <= 100 for s in soc)


def test_can_runs_are_repeatable_byte_for_byte(zhil, tmp_path):
    for k in (1, 2):
        r = zhil("run", "scenarios/can-faults/corrupt.yaml", "--out", tmp_path / f"r{k}", timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
    for name in ("timeseries.csv", "can-can-pack1.log"):
        assert (tmp_path / "r1" / name).read_bytes() == (tmp_path / "r2" / name).read_bytes(), name


def test_can_fault_suite(zhil, tmp_path):
    r = zhil("suite", "scenarios/can-faults.yaml", "--out", tmp_path / "faults", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(" ok ") == 6 and "expected ERROR" in r.stdout
    rec = json.loads((tmp_path / "faults" / "corrupt" / "record.json").read_text())
    assert any("ZH_Status.SOC" in e["what"] and "outside [0, 100]" in e["what"] for e in rec["events"]), rec["events"]


def test_replay_plays_a_log_onto_a_bus_python_can_hears(zhil, tmp_path):
    log = tmp_path / "in.log"
    log.write_text("(100.000000) can0 351#3802E803DC05B801\n(100.050000) can0 356#6F1483FFF6000000\n"
                   "(100.100000) can0 1ABCDEF0#0102\n")
    p, port = start("can", "serve", "--socketcand", "127.0.0.1:0")
    try:
        listener = subprocess.Popen([PY, "-c", f"""
import can, time
bus = can.Bus(interface="socketcand", channel="can0", host="127.0.0.1", port={port})
print("ready", flush=True)
got = []
t0 = time.time()
while len(got) < 3 and time.time() - t0 < 10:
    m = bus.recv(0.5)
    if m: got.append("%X#%s" % (m.arbitration_id, m.data.hex().upper()))
print(" ".join(got), flush=True)
bus.shutdown()
"""], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert listener.stdout.readline().strip() == "ready"
        r = zhil("can", "replay", log, "--socketcand", f"127.0.0.1:{port}", timeout=60)
        heard, err = listener.communicate(timeout=30)
    finally:
        stop(p)
    assert r.returncode == 0 and "3 frames sent" in r.stdout, r.stdout + r.stderr
    assert heard.split() == ["351#3802E803DC05B801", "356#6F1483FFF6000000", "1ABCDEF0#0102"], heard + err


def test_bad_input_is_named_where_it_came_from(zhil, tmp_path):
    bad = tmp_path / "bad.dbc"
    bad.write_text('VERSION ""\nBO_ 849 M: 8 BMS\n SG_ X : 0|16@1* (0.1,0) [0|1] "V" INV\n')
    d = zhil("can", "decode", bad, "--dbc", bad)
    assert d.returncode == 2 and f"{bad}:3:16: sign must be + (unsigned) or - (signed)" in d.stderr, d.stderr
    log = tmp_path / "x.log"
    log.write_text("(1.0) can0 351#3802\nnot a frame\n")
    d = zhil("can", "decode", log, "--dbc", ROOT / "fixtures/can/battery-inverter-lv.dbc")
    assert d.returncode == 2 and f"{log}:2:1:" in d.stderr, d.stderr
    # A socketcand client sending garbage gets errors and the server lives on.
    p, port = start("can", "serve", "--socketcand", "127.0.0.1:0")
    try:
        import socket
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert s.recv(64) == b"< hi >"
        s.sendall(b"< open can0 >")
        assert s.recv(64) == b"< ok >"
        s.sendall(b"< rawmode >")
        assert s.recv(64) == b"< ok >"
        s.sendall(b"< send 800 1 00 >")
        assert b"< error" in s.recv(256)
        s.sendall(b"< send 123 2 00 >")
        assert b"length 2 but 1 data bytes" in s.recv(256)
        s.close()
        s2 = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert s2.recv(64) == b"< hi >"
        s2.close()
    finally:
        code, _, _ = stop(p)
    assert code == 0


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gateway_rewrites_the_bms_limits_to_the_benchs_and_drops_what_its_map_does_not_allow(zhil, tmp_path):
    """zhil between a 48 V pack's bus and its inverter's: the simulated 48 V pack (one 10 kWh module)
    on the low-voltage frames on one virtual bus (zhil sim pack --socketcand), a python-can "inverter"
    on another (zhil can serve). The pack's BMS allows 60 A / 95 A; the bench allows 20 A / 30 A: the
    inverter must never see more, and 0 A once the run ends in its safe state; the inverter's own
    frames never reach the pack's bus."""
    pack, pack_port = start("sim", "pack", "--socketcand", "127.0.0.1:0", "--can-map", "battery-inverter-lv",
                            "--fixture", str(ROOT / "fixtures/packs/zh-10kwh-1m.yaml"))
    serve, port = start("can", "serve", "--socketcand", "127.0.0.1:0", "--bus", "inv0")
    mb = free_port()
    peer = subprocess.Popen([PY, str(ROOT / "tests/e2e/peers/pymodbus_sunspec_inverter.py"), str(mb)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "listening" in peer.stdout.readline()
    station = tmp_path / "gw.yaml"
    station.write_text(f"""station: gateway
description: zhil between a 48 V pack's CAN bus and its inverter's
cycle: 100 ms
grid: {{nominal_frequency: 60 Hz, nominal_voltage: 480 V}}
core: {{name: external}}
devices:
  - {{name: grid, role: grid, model: grid-simulator}}
  - {{name: hall, role: load, model: load-simulator, params: {{power: 5 kW}}}}
  - name: inv1
    role: inverter
    model: sunspec-inverter
    link: {{type: modbus-tcp, host: 127.0.0.1, port: {mb}, unit: 1, timeout: 300 ms}}
    params: {{safe_state_time: 0 s}}
    packs: [gw1]
    limits: {{p_discharge_max: 5 kW, p_charge_max: 5 kW, s_max: 10 kVA, no_load_loss: 30 W}}
  - name: gw1
    role: pack
    model: can-gateway
    link: {{type: socketcand, host: 127.0.0.1, port: {pack_port}, bus: can0}}
    params: {{inverter_link: {{type: socketcand, host: 127.0.0.1, port: {port}, bus: inv0}}}}
    limits: {{i_charge_max: 20 A, i_discharge_max: 30 A, soc_min: 5 %, soc_max: 97 %, t_max: 50 degC}}
""")
    scenario = tmp_path / "gw-scenario.yaml"
    scenario.write_text(f"""scenario: gateway
description: 5 s in real time with zhil as the gateway
station: {station}
duration: 5 s
record_interval: 100 ms
checks:
  - name: pack_answers
    always: "run.gw1.comm_ok > 0.5"
""")
    # Sniffers that zhil did not write: the inverter (sends a keep-alive zhil must not pass on, and
    # records the limits it is given), and a listener on the pack's bus (counts the keep-alives).
    inverter = subprocess.Popen([PY, "-c", f"""
import can, time, json, os
bus = can.Bus(interface="socketcand", channel="inv0", host="127.0.0.1", port={port})
print("ready", flush=True)
limits = []
while not os.path.exists("{tmp_path}/stop"):
    bus.send(can.Message(arbitration_id=0x305, data=[0] * 8, is_extended_id=False))
    m = bus.recv(0.1)
    while m is not None:
        if m.arbitration_id == 0x351:
            d = m.data
            limits.append([(d[2] | d[3] << 8) / 10, (d[4] | d[5] << 8) / 10])
        m = bus.recv(0)
print(json.dumps({{"limits": limits}}), flush=True)
bus.shutdown()
"""], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sniffer = subprocess.Popen([PY, "-c", f"""
import can, json, os
bus = can.Bus(interface="socketcand", channel="can0", host="127.0.0.1", port={pack_port})
print("ready", flush=True)
strays = bms = 0
while not os.path.exists("{tmp_path}/stop"):
    m = bus.recv(0.1)
    if m is None: continue
    if m.arbitration_id == 0x305: strays += 1
    if m.arbitration_id == 0x351: bms = list(m.data)
print(json.dumps({{"strays": strays, "bms": bms}}), flush=True)
bus.shutdown()
"""], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert inverter.stdout.readline().strip() == "ready"
        assert sniffer.stdout.readline().strip() == "ready"
        r = zhil("run", scenario, "--realtime", "--out", tmp_path / "out", timeout=120)
    finally:
        (tmp_path / "stop").write_text("1")
        inv_out, inv_err = inverter.communicate(timeout=60)
        sn_out, sn_err = sniffer.communicate(timeout=60)
        peer.terminate()
        peer.wait(timeout=10)
        stop(serve)
        stop(pack)
    assert r.returncode == 0, r.stdout + r.stderr
    limits = json.loads(inv_out.strip().splitlines()[-1])["limits"]
    assert len(limits) >= 4, inv_out + inv_err
    # The BMS's own limits (from the simulated module's BMS, as the pack's bus carries them)...
    sniffed = json.loads(sn_out.strip().splitlines()[-1])
    bms = sniffed["bms"]
    assert (bms[2] | bms[3] << 8) / 10 > 20 and (bms[4] | bms[5] << 8) / 10 > 30, bms
    # ...never reach the inverter: at most the bench's, rewritten while the run went, 0 at the end.
    assert all(c <= 20 and d <= 30 for c, d in limits), limits
    assert [20.0, 30.0] in limits, limits
    assert limits[-1] == [0.0, 0.0], limits[-5:]
    assert sniffed["strays"] == 0, sn_out + sn_err
    rec = json.loads((tmp_path / "out" / "record.json").read_text())
    gw = next(d for d in rec["devices"] if d["name"] == "gw1")
    assert gw["io"]["gateway limits rewritten"] >= 4 and gw["io"]["gateway frames dropped"] > 0, gw["io"]
    assert gw["identity"] == "ZHIL", gw
    assert next(s for s in rec["safe_state"] if s["device"] == "gw1")["verified"]
    # The pack's signals, decoded by the gateway from the frames it forwards: a 30-cell module.
    import pandas
    ts = pandas.read_csv(tmp_path / "out" / "timeseries.csv")
    assert 45 < ts["gw1.v"].iloc[-1] < 60 and 0 < ts["gw1.soc"].iloc[-1] < 1, ts[["gw1.v", "gw1.soc"]].tail()
