"""Ctrl-C and termination while Python drives a run: the bench is made safe and the record written
first, then Python gets its KeyboardInterrupt, and its own handler is back afterwards."""
import json
import signal

SCRIPT = """
import os, signal, sys, zhil

class Announce(zhil.ControlCore):
    told = False
    def configure(self, context, io):
        self.p = io.command("inv1.p_set")
    def step(self, t, io):
        io.set(self.p, 10e3)
        if not self.told and t >= 1.0:
            print("in-loop", flush=True)
            self.told = True

sc = (zhil.Scenario("long", duration="300 d", station="bench-1pack", record_interval="1 h")
      .check("runs", always="run.overruns >= 0"))
run = None
try:
    with zhil.run(sc, core=Announce(), out="out") as run:
        if sys.argv[-1] == "between":
            run.until(2)
            print("between", flush=True)
            sys.stdin.readline()
        run.run_to_end()
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    r = run.record
    print("KeyboardInterrupt", r.verdict, r.safe, r.error, flush=True)
    print("python handler back:", signal.getsignal(signal.SIGINT) is signal.default_int_handler, flush=True)
    try:
        signal.raise_signal(signal.SIGINT)
        print("no second interrupt", flush=True)
    except KeyboardInterrupt:
        print("second KeyboardInterrupt", flush=True)
"""


def start(tmp_path, python_script, mode):
    import os
    import subprocess
    import sys
    import zhil
    f = tmp_path / "script.py"
    f.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(zhil.__file__))))
    return subprocess.Popen([sys.executable, "-u", str(f), mode], cwd=str(tmp_path), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_ctrl_c_inside_the_loop(tmp_path, python_script):
    p = start(tmp_path, python_script, "inside")
    assert p.stdout.readline().strip() == "in-loop"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "KeyboardInterrupt ABORTED True interrupted (SIGINT)" in out, out + err
    assert "python handler back: True" in out and "second KeyboardInterrupt" in out
    rec = json.loads((tmp_path / "out" / "record.json").read_text())
    assert rec["verdict"] == "ABORTED" and all(s["verified"] for s in rec["safe_state"])
    pack = next(d for d in rec["devices"] if d["name"] == "pack1")
    assert pack["final_state"] == "inactive"


def test_ctrl_c_between_calls(tmp_path, python_script):
    p = start(tmp_path, python_script, "between")
    assert p.stdout.readline().strip() == "in-loop"
    assert p.stdout.readline().strip() == "between"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "KeyboardInterrupt ABORTED True interrupted (KeyboardInterrupt in the Python script)" in out, out + err
    assert "python handler back: True" in out and "second KeyboardInterrupt" in out
    rec = json.loads((tmp_path / "out" / "record.json").read_text())
    assert rec["verdict"] == "ABORTED" and rec["time"]["end_s"] == 2.0
    assert all(s["verified"] for s in rec["safe_state"])


def test_sigterm_inside_the_loop_ends_the_process_after_the_record(tmp_path, python_script):
    p = start(tmp_path, python_script, "inside")
    assert p.stdout.readline().strip() == "in-loop"
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    assert p.returncode == -signal.SIGTERM, out + err  # the interpreter's own disposition: it ends
    rec = json.loads((tmp_path / "out" / "record.json").read_text())
    assert rec["verdict"] == "ABORTED" and rec["error"].startswith("terminated (SIGTERM)")
    assert all(s["verified"] for s in rec["safe_state"])
