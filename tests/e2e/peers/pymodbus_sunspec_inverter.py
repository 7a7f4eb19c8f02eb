"""A SunSpec inverter that zhil did not write: a pymodbus server presenting models 1, 701, 702 and
704 laid out from the official JSON definitions by this script (not by zhil's code), whose output
power follows WSet (bounded by WMaxLimPct of WMaxRtg), and which prints every write it takes.
Its WSet reverts on its own timer as model 704 describes: with WSetEnaRvrt = 1 and WSetRvrtTms = T,
WSet returns to WSetRvrt when it has not been written for T seconds (printed as {"reverted": ...}).

    pymodbus_sunspec_inverter.py PORT [--without 704] [--base 40000] [--no-revert]
"""
import argparse
import json
import pathlib
import sys
import threading
import time

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartTcpServer

MODELS = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "sunspec"


def points(model_id):
    group = json.loads((MODELS / f"model_{model_id}.json").read_text())["group"]
    out, offset = {}, 0
    for p in group["points"]:
        out[p["name"]] = (offset, p["size"], p["type"])
        offset += p["size"]
    # Repeating or nested groups are not used by this peer: the model's length counts them once.
    def walk(g):
        n = sum(p["size"] for p in g.get("points", []))
        return n + sum(walk(s) for s in g.get("groups", []))
    return out, walk(group)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--without", type=int, action="append", default=[])
    ap.add_argument("--base", type=int, default=40000)
    ap.add_argument("--no-revert", action="store_true", help="the revert points are not implemented")
    a = ap.parse_args()
    ids = [m for m in (1, 701, 702, 704) if m not in a.without]
    regs = [0] * 2000
    base = a.base
    regs[0:2] = [0x5375, 0x6E53]
    at = 2
    where = {}
    for mid in ids:
        pts, size = points(mid)
        regs[at] = mid
        regs[at + 1] = size - 2
        for name, (off, n, typ) in pts.items():
            if name in ("ID", "L"):
                continue
            # every point not implemented until set below
            fill = {"int16": [0x8000], "sunssf": [0x8000], "int32": [0x8000, 0], "uint32": [0xFFFF, 0xFFFF],
                    "acc32": [0, 0], "uint64": [0xFFFF] * 4, "acc64": [0] * 4, "string": [0] * n}.get(typ, [0xFFFF] * n)
            regs[at + off:at + off + n] = (fill * n)[:n]
        where[mid] = (at, pts)
        at += size
    regs[at:at + 2] = [0xFFFF, 0]

    def put(mid, name, *values):
        off = where[mid][0] + where[mid][1][name][0]
        regs[off:off + len(values)] = list(values)

    def put_string(mid, name, text):
        off, (poff, n, _) = where[mid][0], where[mid][1][name]
        raw = text.encode().ljust(2 * n, b"\0")
        regs[off + poff:off + poff + n] = [raw[2 * k] << 8 | raw[2 * k + 1] for k in range(n)]

    put_string(1, "Mn", "pymodbus-peer")
    put_string(1, "Md", "sunspec-test-inverter")
    put_string(1, "SN", "PEER-0001")
    put(701, "W_SF", 1)       # W in tens of watts
    put(701, "W", 0)
    put(701, "InvSt", 3)
    put(702, "W_SF", 1)
    put(702, "WMaxRtg", 10000)  # 100 kW
    if 704 in where:
        put(704, "WSet_SF", 0)
        put(704, "WMaxLimPct_SF", 0xFFFF)  # -1
        put(704, "WSet", 0, 0)
        put(704, "WMaxLimPct", 1000)
        for name in ("WSetEna", "WSetMod", "WMaxLimPctEna"):  # implemented controls read back their state
            put(704, name, 0)
        if not a.no_revert:
            put(704, "WSetRvrt", 0, 0)
            put(704, "WSetEnaRvrt", 0)
            put(704, "WSetRvrtTms", 0, 0)

    def s16(v):
        return v - 0x10000 if v & 0x8000 else v

    def addr(mid, name):
        return base + where[mid][0] + where[mid][1][name][0]

    def s32(w):
        v = w[0] << 16 | w[1]
        return v - (1 << 32) if v & 0x80000000 else v

    lock = threading.Lock()
    last_wset_write = [None]

    class Block(ModbusSequentialDataBlock):
        def setValues(self, address, values):
            with lock:
                super().setValues(address, values)
                touched = {f"{mid}.{name}": list(values[max(0, at - address):at + n - address])
                           for mid, (start, pts) in where.items() for name, (off, n, _) in pts.items()
                           for at in [base + start + off] if address < at + n and address + len(values) > at}
                print(json.dumps({"write": address, "values": list(values), "points": touched, "t": time.monotonic()}),
                      flush=True)
                if 704 in where:
                    at = addr(704, "WSet")
                    if address <= at + 1 and address + len(values) > at:
                        last_wset_write[0] = time.monotonic()
                    self.follow()

        def follow(self):
            wset = s32(self.getValues(addr(704, "WSet"), 2))
            pct = self.getValues(addr(704, "WMaxLimPct"), 1)[0] / 10.0
            cap = pct / 100.0 * 100000
            p = max(-cap, min(cap, wset))
            super().setValues(addr(701, "W"), [int(round(p / 10)) & 0xFFFF])

    block = Block(base, regs)

    def revert_timer():
        while True:
            time.sleep(0.05)
            with lock:
                if last_wset_write[0] is None or 704 not in where or a.no_revert:
                    continue
                ena = block.getValues(addr(704, "WSetEnaRvrt"), 1)[0]
                tms = block.getValues(addr(704, "WSetRvrtTms"), 2)
                tms = tms[0] << 16 | tms[1]
                if ena != 1 or tms in (0, 0xFFFFFFFF) or time.monotonic() - last_wset_write[0] < tms:
                    continue
                value = block.getValues(addr(704, "WSetRvrt"), 2)
                ModbusSequentialDataBlock.setValues(block, addr(704, "WSet"), value)
                block.follow()
                last_wset_write[0] = None
                print(json.dumps({"reverted": s32(value), "after_s": tms, "t": time.monotonic()}), flush=True)

    threading.Thread(target=revert_timer, daemon=True).start()
    ctx = ModbusServerContext(slaves=ModbusSlaveContext(hr=block, zero_mode=True), single=True)
    print(json.dumps({"listening": a.port}), flush=True)
    StartTcpServer(context=ctx, address=("127.0.0.1", a.port))


if __name__ == "__main__":
    sys.exit(main())
