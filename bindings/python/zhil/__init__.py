"""zhil for Python: drive every part of the zhil hardware-in-the-loop harness from a script or a
pytest test, and run control cores written in Python in the loop.

    import zhil

    sc = zhil.Scenario.load("scenarios/grid-outage-island.yaml")
    with zhil.run(sc, seed=11) as run:
        run.until("10 min")
        print(run.signal("pack1.soc"))
        run.inject("pack1", "cooling_loss", factor=5)
        record = run.run_to_end()
    print(record.verdict, run.timeseries()["pack1.soc"].min())

Leaving the ``with`` block by any path (return, exception, Ctrl-C) commands the bench's safe state,
verifies it by reading back, and finishes the record.
"""
from __future__ import annotations

import fnmatch
import math
import json
import os
import re
import sys
import threading
import traceback
from typing import Any, Dict, List, NamedTuple, Optional, Union

from . import _zhil
from .core import ControlCore, CoreContext, CoreIO, CoreParams
from .errors import (ConfigError, ControlCoreError, DeviceError, Error, ResultsFolderError, ResultsStoreError, RunError,
                     ScenarioError, SignalError, StationError)
from .record import CheckResult, MeasurementResult, Record, RunEvent, SafeStateResult
from .scenario import Quantity, Scenario, _caller, _yaml_scalar

__version__: str = _zhil.version
__all__ = ["run", "Run", "Station", "Device", "Scenario", "Signal", "ControlCore", "CoreContext", "CoreIO",
           "CoreParams", "Record", "CheckResult", "MeasurementResult", "SafeStateResult", "RunEvent", "Error",
           "ConfigError", "ScenarioError", "StationError", "DeviceError", "ControlCoreError", "SignalError",
           "RunError", "ResultsFolderError", "ResultsStoreError", "seconds", "project_root", "core_names", "Quantity"]


def seconds(t: Quantity) -> float:
    """A time in seconds: a number as is, a string with its unit ("10 min", "250 ms")."""
    if isinstance(t, bool):
        raise TypeError("a time is a number of seconds or a string such as '10 min'")
    if isinstance(t, (int, float)):
        if not math.isfinite(t):
            raise ValueError(f"a time must be a finite number of seconds, not {t}")
        return float(t)
    return _zhil.seconds(str(t))


def project_root() -> str:
    """The zhil checkout or installation whose fixtures/ and scenarios/ names are resolved in."""
    return _zhil.project_root()


def core_names() -> List[str]:
    """The control cores registered in C++ (a station's ``core:`` names one of them)."""
    return list(_zhil.core_names())


class Device(NamedTuple):
    name: str
    role: str
    model: str
    link: str
    packs: List[str]
    simulated: bool


class Station:
    """A station (bench) file: which devices, how they are reached, the limits, the core."""

    def __init__(self, config: Any) -> None:
        self._config = config

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Station":
        """A station file, or a station name (fixtures/stations/NAME.yaml). Raises zhil.StationError
        naming file:line:column."""
        return cls(_zhil.StationConfig.load(_station_path(os.fspath(path))))

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def file(self) -> str:
        return self._config.file

    @property
    def description(self) -> str:
        return self._config.description

    @property
    def core(self) -> str:
        """The control core the station runs by default."""
        return self._config.core

    @property
    def cycle(self) -> float:
        return self._config.cycle

    @property
    def devices(self) -> List[Device]:
        return [Device(**d) for d in self._config.devices]

    def with_role(self, role: str) -> List[str]:
        """Names of the devices of a role: pack, inverter, grid, load."""
        return list(self._config.with_role(role))

    @property
    def simulated(self) -> bool:
        """True when every device is a simulator (nothing real is driven)."""
        return all(d.simulated for d in self.devices)

    def __repr__(self) -> str:
        return f"<zhil.Station {self.name} ({self.file}, {len(self.devices)} devices)>"


def _station_path(station: str) -> str:
    if "/" in station or station.endswith(".yaml"):
        return station
    return _zhil.resolve_station(station, ".", _zhil.project_root())


class Signal(NamedTuple):
    """A signal's value now, with its unit, quality (good, stale, fault), kind (measurement, command,
    applied, limit, stimulus) and owner (the device or part that writes it)."""
    value: float
    unit: str
    quality: str
    kind: str
    owner: str

    def __float__(self) -> float:
        return self.value


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class Run:
    """One run of a scenario on a station; made by :func:`zhil.run`. Use it as a context manager."""

    def __init__(self, impl: Any, scenario: Scenario) -> None:
        self._r = impl
        self._scenario = scenario
        self._names: Optional[List[str]] = None
        self._record: Optional[Record] = None

    # --- lifetime ------------------------------------------------------------------------------

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc_type is None or (issubclass(exc_type, SystemExit) and exc.code in (None, 0)):
            self._r.finish("", "")
        elif issubclass(exc_type, KeyboardInterrupt):
            self._r.finish("ABORTED", "interrupted (KeyboardInterrupt in the Python script)")
        else:
            text = "".join(traceback.format_exception(exc_type, exc, tb)).rstrip()
            self._r.finish("ERROR", "Python script raised:\n" + text)
        return False

    @property
    def live_url(self) -> Optional[str]:
        """Where the live view is served (zhil.run(serve=...)), with its token if it needs one; None without."""
        return self._r.live_url() or None

    def finish(self) -> Record:
        """Ends the run now (the safe state, then the record) and returns the record. A run stopped
        before its scenario's end is ABORTED."""
        self._r.finish("", "")
        return self.record  # type: ignore[return-value]

    # --- driving -------------------------------------------------------------------------------

    def step(self) -> bool:
        """One cycle. False once the run has ended (it is then finished: bench safe, record written)."""
        return self._r.step(_main_thread())

    def until(self, t: Quantity) -> bool:
        """Cycles up to and including simulated time `t` (seconds, or "10 min"). False once ended."""
        return self._r.until(seconds(t), _main_thread())

    def run_to_end(self) -> Record:
        """Runs to the scenario's end and returns the record."""
        self._r.run_to_end(_main_thread())
        return self.record  # type: ignore[return-value]

    @property
    def time(self) -> float:
        """Simulated (or real-time) seconds of the last completed cycle."""
        return self._r.time

    @property
    def cycles(self) -> int:
        return self._r.cycles

    @property
    def ended(self) -> bool:
        return self._r.ended

    @property
    def out_dir(self) -> str:
        """The results folder: record.json, junit.xml, timeseries.csv, bus logs."""
        return self._r.out_dir

    @property
    def core(self) -> str:
        return self._r.core_name

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    # --- signals -------------------------------------------------------------------------------

    def signal(self, name: str) -> Signal:
        """A signal's value, unit and quality now. Raises zhil.SignalError for an unknown name."""
        return Signal(*self._r.signal(name))

    def names(self) -> List[str]:
        """Every signal of the run, in table order."""
        if self._names is None:
            self._names = list(self._r.names())
        return list(self._names)

    def signals(self, pattern: str = "*") -> Dict[str, Signal]:
        """Signals whose names match a glob ("pack*.soc", "inv1.*"), by name."""
        return {n: Signal(*self._r.signal(n)) for n in self.names() if fnmatch.fnmatchcase(n, pattern)}

    def set(self, name: str, value: Any) -> None:
        """Sets a stimulus (grid.f_set, hall.p_demand_set; "59.5 Hz" with its unit) as a scenario's
        `set` does, or writes a command as a core would (the envelope bounds it; the core may
        overwrite it in its next step). Noted in the record's events."""
        kind = self._r.signal(name)[3]
        if kind == "stimulus":
            self._r.act(_yaml_scalar({"set": {"signal": name, "value": value}}), _caller(), f"set {name} = {value}")
        else:
            self._r.set_command(name, float(value))

    def inject(self, device: str, fault: str, **params: Any) -> None:
        """Injects a fault now, as a scenario's fault event does: ``run.inject("pack1",
        "cooling_loss", factor=5)``, ``run.inject("pack1", "can_drop", id=0x4C1)``."""
        detail = ", ".join(f"{k}={v}" for k, v in params.items())
        self._r.act(_yaml_scalar({"fault": {"device": device, "kind": fault, **params}}), _caller(),
                    f"inject {fault} on {device}" + (f" ({detail})" if detail else ""))

    def clear(self, device: str, fault: Optional[str] = None) -> None:
        """Clears one fault of a device (``run.clear("pack1", "cooling_loss")``), or all of them."""
        if fault is None:
            self._r.act(_yaml_scalar({"fault": {"device": device, "kind": "clear"}}), _caller(),
                        f"clear every fault of {device}")
        else:
            self._r.act(_yaml_scalar({"set": {"signal": f"{device}.fault.{fault}", "value": 0}}), _caller(),
                        f"clear {fault} on {device}")

    def event(self, **action: Any) -> None:
        """Any timeline action now, as a scenario file writes it: ``run.event(grid={"outage": True})``,
        ``run.event(load={"power": "1.2 MW"})``."""
        self._r.act(_yaml_scalar(action), _caller(), "event " + json.dumps(action, default=str))

    # --- results -------------------------------------------------------------------------------

    @property
    def record(self) -> Optional[Record]:
        """The test record once the run has finished (None before)."""
        if self._record is None:
            text = self._r.record_json()
            if text is not None:
                rec = Record.from_json(text, os.path.join(self.out_dir, "record.json"))
                if self._scenario.built:
                    # Checks and measurements named where the Python code defined them.
                    sc, path = self._scenario, os.path.join(self.out_dir, "scenario.yaml")
                    rel = (lambda w: sc._relocate(w + ": ", path).rstrip(": ") if w.startswith(path) else
                           sc._relocate(w + ": ", os.path.relpath(path)).rstrip(": "))
                    object.__setattr__(rec, "checks", [c.__class__(**{**c.__dict__, "defined_at": rel(c.defined_at)})
                                                      for c in rec.checks])
                    object.__setattr__(rec, "measurements", [m.__class__(**{**m.__dict__,
                                                                            "defined_at": rel(m.defined_at)})
                                                            for m in rec.measurements])
                self._record = rec
        return self._record

    @property
    def verdict(self) -> Optional[str]:
        r = self.record
        return r.verdict if r else None

    def timeseries(self) -> "Any":
        """The recorded time series as a pandas DataFrame indexed by time ``t`` (s), one column per
        recorded signal: the rows recorded so far, the same values as timeseries.csv."""
        import pandas as pd
        columns, t, values, full = self._r.rows()
        if full:
            if not self._r.finished:
                raise RunError("the time series is too large to keep in memory during the run; "
                               "it is complete in timeseries.csv once the run has finished")
            return pd.read_csv(os.path.join(self.out_dir, "timeseries.csv"), index_col="t", float_precision="round_trip")
        df = pd.DataFrame(values, columns=list(columns), index=pd.Index(t, name="t"))
        return df

    def __repr__(self) -> str:
        state = f"finished {self.record.verdict}" if self.record else f"t={self.time:g} s"
        return f"<zhil.Run {self._scenario.name} {state}>"


def _results_location(db: Optional[str]) -> str:
    if db is None:
        return os.environ.get("ZHIL_DB") or "zhil-results/results.db"
    return os.fspath(db)


def run(scenario: Union[Scenario, str, "os.PathLike[str]"], station: Union[Station, str, None] = None,
        core: Union[ControlCore, str, None] = None, seed: Optional[int] = None, realtime: bool = False,
        out: Optional[Union[str, "os.PathLike[str]"]] = None, *, overwrite: bool = False,
        dut_serial: Optional[str] = None, progress: Optional[bool] = None, db: Optional[str] = None,
        serve: Optional[str] = None, serve_token: Optional[str] = None) -> Run:
    """Starts a run: the scenario bound to the station (every name checked), the results folder
    claimed, the devices activated, time 0.

    scenario: a zhil.Scenario or a scenario file.  station: a zhil.Station, a file or a station name
    (default: the scenario's).  core: a zhil.ControlCore instance, a registered core's name, or None
    for the station's.  seed: default the scenario's.  realtime: follow the wall clock (real
    hardware).  out: the results folder (default results/<scenario>-<UTC time>); overwrite replaces
    an earlier run's results there.  dut_serial: the serial under test, for the record.
    progress: simulated time, speed and ETA on the terminal (default: when stderr is a terminal).
    db: the results store the run goes into, a SQLite file or a postgresql:// URI (default: $ZHIL_DB,
    else zhil-results/results.db under the working directory); "" keeps the results folder only.
    serve: "127.0.0.1:PORT" serves a live view of the run (port 0: a free one; run.live_url says
    where); beyond loopback it needs serve_token (default: a random one, in run.live_url).
    """
    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(os.fspath(scenario))
    if isinstance(station, Station):
        station_file = station.file
    elif station is None:
        station_file = ""
    else:
        station_file = _station_path(os.fspath(station))
    if core is not None and not isinstance(core, (str, ControlCore)):
        if not (hasattr(core, "configure") and hasattr(core, "step")):
            raise TypeError("core must be a zhil.ControlCore, a registered core's name, or None")
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    spec, text = scenario._for_run()
    impl = None
    try:
        impl = _zhil.ScriptedRun(spec, text, station_file, core, seed, realtime, os.fspath(out) if out else "",
                                 overwrite, dut_serial or "", progress, _results_location(db), serve or "",
                                 serve_token or "")
        return Run(impl, scenario)
    except BaseException as e:
        # A Ctrl-C that lands just as the run starts: the bench is made safe before it propagates.
        if impl is not None:
            impl.finish("ABORTED", f"interrupted while starting ({type(e).__name__})")
        if not isinstance(e, ScenarioError):
            raise
        # A built scenario runs from the scenario.yaml written into its results folder: name the
        # Python line instead.
        m = re.match(r"^(.*scenario\.yaml):\d+:\d+: ", str(e))
        if not text or not m:
            raise
        raise ScenarioError(scenario._relocate(str(e), m.group(1))) from None
