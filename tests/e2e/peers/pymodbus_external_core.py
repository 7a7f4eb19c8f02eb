"""A control core that is another program (core: external), written with pymodbus as a control-core
team would: it discovers the simulated inverter and pack zhil serves, closes the pack's contactor,
commands the inverter to discharge 20 kW every 100 ms, and tries once to command 10 MW, which the
safety envelope must refuse with a Modbus exception.

    pymodbus_external_core.py INVERTER_PORT PACK_PORT SECONDS [LOCKSTEP_PORT]

With LOCKSTEP_PORT it runs in lock-step with zhil's simulated time: it waits for each new cycle on
zhil's lock-step map (cycle at registers 0-1, simulated time in ms at 2-5), does its work, and
acknowledges the cycle (writes it to registers 6-7); it stops when zhil goes (SECONDS is then a
limit of wall time).
"""
import json
import random
import sys
import time

from pymodbus.client import ModbusTcpClient


def connect(port, deadline):
    while time.time() < deadline:
        c = ModbusTcpClient("127.0.0.1", port=port)
        if c.connect():
            r = c.read_holding_registers(40000, 2, slave=1)
            if not r.isError() and r.registers == [0x5375, 0x6E53]:
                return c
            c.close()
        time.sleep(0.05)
    raise SystemExit(f"no SunSpec device on port {port}")


def models(c):
    at, out = 40002, {}
    while True:
        head = c.read_holding_registers(at, 2, slave=1).registers
        if head[0] == 0xFFFF:
            return out
        out[head[0]] = at
        at += 2 + head[1]


def work(inv, pack, wset, setop, state):
    pack.write_register(setop, 1, slave=1)                    # 802.SetOp: CONNECT
    r = inv.write_registers(wset, [0, 20000], slave=1)       # 704.WSet = 20 kW (WSet_SF 0)
    state["wrote"] += 0 if r.isError() else 1
    if state["refused"] is None and state["wrote"] > 5:
        big = 10_000_000
        r = inv.write_registers(wset, [big >> 16, big & 0xFFFF], slave=1)
        state["refused"] = r.exception_code if r.isError() else 0


def lockstep(port, inv, pack, wset, setop, seconds, jitter=False):
    clock = ModbusTcpClient("127.0.0.1", port=port)
    deadline = time.time() + 10
    while not clock.connect():
        if time.time() > deadline:
            raise SystemExit("no lock-step map")
        time.sleep(0.05)
    state = {"wrote": 0, "refused": None, "cycles": 0}
    last = 0
    end = time.time() + seconds
    try:
        while time.time() < end:
            r = clock.read_holding_registers(0, 8, slave=1)
            if r.isError():
                break
            cycle = r.registers[0] << 16 | r.registers[1]
            if cycle == last:
                continue
            last = cycle
            if jitter:
                # A program slower some cycles than others: what zhil records must not depend on when
                # within the held cycle its writes arrive.
                time.sleep(random.uniform(0, 0.01))
            work(inv, pack, wset, setop, state)
            state["cycles"] += 1
            clock.write_registers(6, [cycle >> 16, cycle & 0xFFFF], slave=1)
    except Exception:  # zhil ended the run: its servers are gone
        pass
    return state


def main():
    inv_port, pack_port, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    deadline = time.time() + 10
    inv, pack = connect(inv_port, deadline), connect(pack_port, deadline)
    mi, mp = models(inv), models(pack)
    wset, setop = mi[704] + 24, mp[802] + 50
    if len(sys.argv) > 4:
        jitter = len(sys.argv) > 5 and sys.argv[5] == "jitter"
        print(json.dumps(lockstep(int(sys.argv[4]), inv, pack, wset, setop, seconds, jitter)), flush=True)
        return
    end = time.time() + seconds
    wrote, refused = 0, None
    while time.time() < end:
        pack.write_register(setop, 1, slave=1)                    # 802.SetOp: CONNECT
        r = inv.write_registers(wset, [0, 20000], slave=1)       # 704.WSet = 20 kW (WSet_SF 0)
        wrote += 0 if r.isError() else 1
        if refused is None and wrote > 5:
            big = 10_000_000
            r = inv.write_registers(wset, [big >> 16, big & 0xFFFF], slave=1)
            refused = r.exception_code if r.isError() else 0
        time.sleep(0.1)
    print(json.dumps({"wrote": wrote, "refused": refused}), flush=True)


if __name__ == "__main__":
    main()
