"""A control core that is another program (core: external), written with pymodbus as a control-core
team would: it discovers the simulated inverter and pack zhil serves, closes the pack's contactor,
commands the inverter to discharge 20 kW every 100 ms, and tries once to command 10 MW, which the
safety envelope must refuse with a Modbus exception.

    pymodbus_external_core.py INVERTER_PORT PACK_PORT SECONDS
"""
import json
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


def main():
    inv_port, pack_port, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    deadline = time.time() + 10
    inv, pack = connect(inv_port, deadline), connect(pack_port, deadline)
    mi, mp = models(inv), models(pack)
    wset, setop = mi[704] + 24, mp[802] + 50
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
