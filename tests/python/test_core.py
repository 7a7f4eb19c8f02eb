"""Control cores written in Python: in the loop in simulated and real time, errors, setpoints held."""
import zhil
import pytest


class HoldOnce(zhil.ControlCore):
    """Writes the inverter's setpoint and the contactor once, at its first step, and never again."""

    def __init__(self, p_w):
        self.p_w = p_w
        self.steps = 0

    def configure(self, context, io):
        self.cycle = context.cycle
        self.station = context.station.name
        self.p_set = io.command("inv1.p_set")
        self.contactor = io.command("pack1.contactor_cmd")
        self.soc = io.input("pack1.soc")
        self.out = io.publish("core.steps", "1")

    def step(self, t, io):
        if self.steps == 0:
            io.set(self.p_set, self.p_w)
            io.set(self.contactor, 1.0)
        self.steps += 1
        io.set(self.out, float(self.steps))


def scenario(name, duration="2 min"):
    return (zhil.Scenario(name, duration=duration, station="bench-1pack", record_interval="1 s")
            .demand(0, power="50 kW")
            .check("runs", always="run.overruns >= 0"))


def test_a_python_core_runs_in_the_loop_and_a_setpoint_written_once_is_kept(tmp_path):
    core = HoldOnce(20e3)
    with zhil.run(scenario("hold-once"), core=core, out=tmp_path / "out") as run:
        rec = run.run_to_end()
    assert rec.verdict == "PASS" and rec.core.startswith("python:") and rec.core.endswith("HoldOnce")
    assert core.steps == 1201 and core.cycle == pytest.approx(0.1) and core.station == "bench-1pack"
    df = run.timeseries()
    # Written once at t=0, applied every cycle after (the envelope keeps the core's setpoint).
    assert (df.loc[1:, "inv1.p_set.applied"] == 20e3).all()
    assert (df.loc[5:, "inv1.p_ac"] - 20e3).abs().max() < 500
    assert df["core.steps"].iloc[-1] == 1201


def test_the_envelope_bounds_what_a_python_core_asks(tmp_path):
    with zhil.run(scenario("too-much"), core=HoldOnce(5e6), out=tmp_path / "out") as run:
        rec = run.run_to_end()
    df = run.timeseries()
    assert df["inv1.p_set"].iloc[-1] == 5e6  # what it asked
    assert df.loc[1:, "inv1.p_set.applied"].max() <= 100e3  # what the bench's limits let through
    assert rec.raw["envelope_interventions"] > 0


class Raises(HoldOnce):
    def step(self, t, io):
        super().step(t, io)
        if t >= 3.0:
            return 1 / 0


def test_an_exception_in_a_python_core_is_an_error_with_its_traceback_and_the_bench_is_safe(tmp_path):
    with zhil.run(scenario("raises"), core=Raises(10e3), out=tmp_path / "out") as run:
        with pytest.raises(zhil.ControlCoreError) as e:
            run.run_to_end()
    assert "ZeroDivisionError: division by zero" in str(e.value) and "test_core.py" in str(e.value)
    rec = run.record
    assert rec.verdict == "ERROR" and "Traceback (most recent call last)" in rec.error
    assert "return 1 / 0" in rec.error and rec.end_time == pytest.approx(3.0)
    assert rec.safe and {s.device for s in rec.safe_state} == {"grid", "hall", "inv1", "pack1"}


class BadName(zhil.ControlCore):
    def configure(self, context, io):
        io.input("pack1.no_such_signal")

    def step(self, t, io):
        pass


def test_a_core_that_names_an_unknown_signal_is_refused_before_the_run(tmp_path):
    with pytest.raises(zhil.ControlCoreError) as e:
        zhil.run(scenario("bad-name"), core=BadName(), out=tmp_path / "out")
    assert "pack1.no_such_signal" in str(e.value)
    assert not (tmp_path / "out").exists()


class Params(zhil.ControlCore):
    def configure(self, context, io):
        context.params.expect_keys(["grid_import_limit", "import_margin", "import_ramp_limit", "charge_margin",
                                    "soc_reserve", "soc_max", "pack_energy"])
        self.limit = context.params.quantity("grid_import_limit", "W", 0.0)
        self.reserve = context.params.quantity("soc_reserve", "1", 0.0, 0, 1)

    def step(self, t, io):
        pass


def test_a_core_reads_its_parameters_with_units(tmp_path):
    core = Params()
    with zhil.run(scenario("params", "1 s"), core=core, out=tmp_path / "out") as run:
        run.run_to_end()
    assert core.limit == 100e3 and core.reserve == pytest.approx(0.30)


def test_a_python_core_in_real_time(tmp_path):
    core = HoldOnce(10e3)
    with zhil.run(scenario("realtime", "2 s"), core=core, realtime=True, out=tmp_path / "out") as run:
        rec = run.run_to_end()
    assert rec.verdict == "PASS" and rec.mode == "real-time" and core.steps == 21
    assert rec.raw["run"]["real_time"]["overruns"] == 0


def test_a_registered_core_by_name(tmp_path):
    with zhil.run(scenario("by-name", "10 s"), core="reference", out=tmp_path / "out") as run:
        assert run.run_to_end().verdict == "PASS"
    with pytest.raises(zhil.ControlCoreError, match="unknown control core 'nope'"):
        zhil.run(scenario("by-name-2", "10 s"), core="nope")


def test_a_core_missing_step_cannot_be_made():
    class NoStep(zhil.ControlCore):
        def configure(self, context, io):
            pass

    with pytest.raises(TypeError, match="step"):
        NoStep()
