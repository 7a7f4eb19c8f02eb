"""Scenarios: loaded from their YAML files, or built in Python.

A scenario built in Python is written out as the same YAML a scenario file holds and loaded by the
same C++ loader, so it means exactly what the file would, and it is checked the same way. An
error in it names the Python line that built the offending part (``test_x.py:34: ...``).
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _zhil
from .errors import ScenarioError

__all__ = ["Scenario", "Quantity"]

# A quantity is a number in SI units (W, V, A, s...) or a string with its unit: "1.2 MW", "10 min".
Quantity = Union[float, int, str]


def _caller(depth: int = 2) -> str:
    """file:line of the user's code that called into this module."""
    f = sys._getframe(depth)
    here = os.path.dirname(os.path.abspath(__file__))
    while f is not None and os.path.dirname(os.path.abspath(f.f_code.co_filename)) == here:
        f = f.f_back
    if f is None:
        return "<python>"
    return f"{os.path.relpath(f.f_code.co_filename) if not f.f_code.co_filename.startswith('<') else f.f_code.co_filename}:{f.f_lineno}"


def _yaml_scalar(v: Any) -> str:
    # JSON is YAML: strings quoted, numbers exact (repr of a float round-trips), booleans true/false.
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"{v} is not a finite number")
        return repr(v)
    if isinstance(v, (int, str)):
        return json.dumps(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_yaml_scalar(x)}" for k, x in v.items() if x is not None) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_yaml_scalar(x) for x in v) + "]"
    raise TypeError(f"cannot put a {type(v).__name__} in a scenario: {v!r}")


def _is_path(s: str) -> bool:
    return "/" in s or s.endswith(".yaml")


class Scenario:
    """A scenario: which station, how long, a timeline of stimuli and faults, and the checks and
    measurements that decide its verdict.

    Load one from a file::

        sc = zhil.Scenario.load("scenarios/grid-outage-island.yaml")

    or build one (every method returns the scenario, so calls chain)::

        sc = (zhil.Scenario("outage-10min", duration="30 min", station="simulated", seed=11)
              .demand("0 s", power="950 kW")
              .grid("10 min", outage=True)
              .check("no_unserved_load", always="hall.p_unserved < 1")
              .measure("lowest_soc", "pack1.soc", aggregate="min", unit="1", low=0.3))
    """

    def __init__(self, name: str, duration: Quantity, *, station: str = "simulated", seed: Optional[int] = None,
                 description: str = "", cycle: Optional[Quantity] = None, record_interval: Optional[Quantity] = None,
                 record: Optional[List[str]] = None, start_time_of_day: Optional[Quantity] = None,
                 core_params: Optional[Dict[str, Any]] = None) -> None:
        self._built = True
        self._spec: Optional[Any] = None  # loaded; for a built one, as last validated (None: changed since)
        self._origin = _caller()
        head: Dict[str, Any] = {"scenario": name, "description": description or None,
                                "station": os.path.abspath(station) if _is_path(station) else station,
                                "duration": duration, "seed": seed, "cycle": cycle,
                                "record_interval": record_interval, "start_time_of_day": start_time_of_day}
        self._head = [(k, v, self._origin) for k, v in head.items() if v is not None]
        self._record = list(record) if record else []
        self._core_params = dict(core_params) if core_params else {}
        self._sections: Dict[str, List[Tuple[Dict[str, Any], str]]] = {
            "timeline": [], "derived": [], "checks": [], "measurements": []}

    # --- loading -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Scenario":
        """A scenario file. Raises zhil.ScenarioError naming file:line:column."""
        s = cls.__new__(cls)
        s._built = False
        s._spec = _zhil.ScenarioSpec.load(os.fspath(path))
        s._origin = s._spec.file
        return s

    @property
    def built(self) -> bool:
        """True for a scenario built in Python (not loaded from a file)."""
        return self._built

    def _loaded(self) -> Any:
        if self._spec is None:
            self._spec = self._validated()
        return self._spec

    @property
    def name(self) -> str:
        return dict((k, v) for k, v, _ in self._head)["scenario"] if self.built else self._spec.name

    @property
    def duration(self) -> float:
        """Seconds."""
        return self._loaded().duration

    @property
    def station(self) -> str:
        return self._loaded().station

    @property
    def seed(self) -> int:
        return self._loaded().seed

    @property
    def file(self) -> Optional[str]:
        """The scenario's file (None for one built in Python until it runs or is saved)."""
        return None if self.built else self._spec.file

    @property
    def checks(self) -> List[str]:
        return list(self._loaded().checks)

    @property
    def measurements(self) -> List[str]:
        return list(self._loaded().measurements)

    # --- building ------------------------------------------------------------------------------

    def _add(self, section: str, item: Dict[str, Any]) -> "Scenario":
        if not self.built:
            raise ScenarioError(f"{_caller(3)}: scenario {self.name} was loaded from {self._spec.file}; "
                                "build a new zhil.Scenario(...) to add to it")
        self._sections[section].append(({k: v for k, v in item.items() if v is not None}, _caller(3)))
        self._spec = None
        return self

    def event(self, at: Quantity, **action: Any) -> "Scenario":
        """A timeline event with one action as a scenario file writes it: grid=, load=, fault= or set=."""
        return self._add("timeline", {"at": at, **action})

    def grid(self, at: Quantity, *, outage: Optional[bool] = None, voltage: Any = None, frequency: Any = None,
             device: Optional[str] = None) -> "Scenario":
        """At `at`: the grid goes out (outage=True) or returns, or its voltage (pu) or frequency
        ("59.5 Hz") steps; a dict is a profile (e.g. {"ramp": {...}})."""
        return self.event(at, grid={"device": device, "outage": outage, "voltage": voltage, "frequency": frequency})

    def demand(self, at: Quantity, *, power: Optional[Quantity] = None, ramp: Optional[Dict[str, Any]] = None,
               profile: Optional[Dict[str, Any]] = None, device: Optional[str] = None) -> "Scenario":
        """At `at`: the site's load demand steps to `power`, ramps, or follows a profile."""
        if profile is not None and "file" in profile:
            profile = dict(profile, file=os.path.abspath(profile["file"]))
        return self.event(at, load={"device": device, "power": power, "ramp": ramp, "profile": profile})

    def fault(self, at: Quantity, device: str, kind: str, **params: Any) -> "Scenario":
        """At `at`: fault `kind` on `device` (cooling_loss, ambient, comm_loss, trip, internal_short,
        modbus_*, can_*), with its parameters (factor=, temperature=, delay=, id=...)."""
        return self.event(at, fault={"device": device, "kind": kind, **params})

    def clear_faults(self, at: Quantity, device: str) -> "Scenario":
        """At `at`: every fault of `device` cleared."""
        return self.event(at, fault={"device": device, "kind": "clear"})

    def set(self, at: Quantity, signal: str, value: Any) -> "Scenario":
        """At `at`: a stimulus signal ("<device>.<signal>") set to `value`."""
        return self.event(at, set={"signal": signal, "value": value})

    def check(self, name: str, *, always: Optional[str] = None, never: Optional[str] = None,
              eventually: Optional[str] = None, settles: Optional[Dict[str, Any]] = None,
              within: Optional[Quantity] = None, from_: Optional[Quantity] = None,
              until: Optional[Quantity] = None) -> "Scenario":
        """A check: `always` / `never` an expression over signals, `eventually` one `within` a time,
        or a signal that `settles` (dict: signal, value, tolerance, unit) within a time; between
        `from_` and `until` (default: the whole run)."""
        return self._add("checks", {"name": name, "always": always, "never": never, "eventually": eventually,
                                    "settles": settles, "within": within, "from": from_, "until": until})

    def measure(self, name: str, signal: str, *, unit: str, aggregate: str = "max", low: Optional[Quantity] = None,
                high: Optional[Quantity] = None, from_: Optional[Quantity] = None,
                until: Optional[Quantity] = None) -> "Scenario":
        """A measurement of `signal` (max, min, mean, final or integral) in `unit`, with limits."""
        return self._add("measurements", {"name": name, "signal": signal, "aggregate": aggregate, "unit": unit,
                                          "low": low, "high": high, "from": from_, "until": until})

    def derive(self, name: str, of: str, *, op: str = "mean", window: Quantity = "1 s") -> "Scenario":
        """A signal the harness computes each cycle: the moving mean or the rate of change of `of`."""
        return self._add("derived", {"name": name, "of": of, "op": op, "window": window})

    # --- YAML ----------------------------------------------------------------------------------

    def _render(self) -> Tuple[str, List[Tuple[int, str]]]:
        """The YAML text, and (first line, Python origin) for every part of it."""
        lines: List[str] = []
        origins: List[Tuple[int, str]] = []

        def put(text: str, origin: str) -> None:
            origins.append((len(lines) + 1, origin))
            lines.append(text)

        put(f"# built in Python at {self._origin}", self._origin)
        for k, v, origin in self._head:
            put(f"{k}: {_yaml_scalar(v)}", origin)
        if self._record:
            put(f"record: {_yaml_scalar(self._record)}", self._origin)
        if self._core_params:
            put(f"core_params: {_yaml_scalar(self._core_params)}", self._origin)
        for section, items in self._sections.items():
            if not items:
                continue
            put(f"{section}:", items[0][1])
            for item, origin in items:
                put("  - " + _yaml_scalar(item), origin)
        return "\n".join(lines) + "\n", origins

    def to_yaml(self) -> str:
        """The scenario as a scenario file would hold it."""
        if not self.built:
            with open(self._spec.file, encoding="utf-8") as f:
                return f.read()
        return self._render()[0]

    def _relocate(self, message: str, path: str, origins: Optional[List[Tuple[int, str]]] = None) -> str:
        """An error at path:line:column of this scenario's YAML, named at the Python line that built that part."""
        if origins is None:
            origins = self._render()[1]
        m = re.match(re.escape(path) + r":(\d+):(\d+): ", message)
        if not m:
            return message
        line = int(m.group(1))
        origin = self._origin
        for first, o in origins:
            if first <= line:
                origin = o
        return f"{origin}: " + message[m.end():]

    def _validated(self, path: Optional[str] = None) -> Any:
        """Written to `path` (or a temporary file) and loaded: errors name the Python line."""
        text, origins = self._render()
        tmp = None
        if path is None:
            tmp = tempfile.mkdtemp(prefix="zhil-scenario-")
            path = os.path.join(tmp, "scenario.yaml")
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            try:
                return _zhil.ScenarioSpec.load(path)
            except ScenarioError as e:
                raise ScenarioError(self._relocate(str(e), path, origins)) from None
        finally:
            if tmp:
                os.unlink(path)
                os.rmdir(tmp)

    def save(self, path: Union[str, "os.PathLike[str]"]) -> "Scenario":
        """Writes the scenario file and returns it loaded from there."""
        if not self.built:
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.to_yaml())
            return Scenario.load(path)
        self._validated(os.fspath(path))
        return Scenario.load(path)

    def __repr__(self) -> str:
        return f"<zhil.Scenario {self.name} ({'built at ' + self._origin if self.built else self._spec.file})>"

    def _for_run(self) -> Tuple[Any, str]:
        """(the loaded scenario, its YAML text if built in Python, else "")."""
        spec = self._loaded()
        return spec, (self._render()[0] if self.built else "")
