"""A run's test record as Python objects: the same content as its ``record.json``."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

__all__ = ["Record", "CheckResult", "MeasurementResult", "SafeStateResult", "RunEvent"]


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: ``verdict`` is PASS, FAIL or INCOMPLETE; ``evidence`` says what was
    seen when it failed (time, values), as the record has it."""
    name: str
    kind: str
    condition: str
    verdict: str
    evidence: Optional[Any]
    defined_at: str

    @property
    def passed(self) -> bool:
        return self.verdict == "PASS"


@dataclass(frozen=True)
class MeasurementResult:
    """A measurement with its unit and limits (OpenHTF style); ``verdict`` is PASS, FAIL or INCOMPLETE."""
    name: str
    signal: str
    aggregate: str
    value: Optional[float]
    unit: str
    low: Optional[float]
    high: Optional[float]
    verdict: str
    defined_at: str

    @property
    def passed(self) -> bool:
        return self.verdict == "PASS"


@dataclass(frozen=True)
class SafeStateResult:
    device: str
    commanded: bool
    verified: bool
    detail: str


@dataclass(frozen=True)
class RunEvent:
    t: float
    what: str


@dataclass(frozen=True)
class Record:
    """One run's record. ``verdict`` is PASS, FAIL (the device under test failed a check or a
    measurement), ERROR (the bench failed) or ABORTED (stopped by the operator)."""
    verdict: str
    error: Optional[str]
    run_id: str
    scenario: str
    station: str
    core: str
    seed: int
    mode: str
    dut: List[Dict[str, str]]
    dut_serial: Optional[str]
    checks: List[CheckResult]
    measurements: List[MeasurementResult]
    safe_state: List[SafeStateResult]
    events: List[RunEvent]
    end_time: float
    path: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, text: str, path: Optional[str] = None) -> "Record":
        r = json.loads(text)
        return cls(
            verdict=r["verdict"], error=r.get("error"), run_id=r["run"]["id"], scenario=r["scenario"]["name"],
            station=r["station"]["name"], core=r["core"], seed=r["seed"], mode=r["mode"], dut=r.get("dut", []),
            dut_serial=r.get("dut_serial"),
            checks=[CheckResult(c["name"], c["kind"], c["condition"], c["verdict"], c.get("evidence"), c["defined_at"])
                    for c in r["checks"]],
            measurements=[MeasurementResult(m["name"], m["signal"], m["aggregate"], m.get("value"), m["unit"],
                                            m.get("low"), m.get("high"), m["verdict"], m["defined_at"])
                          for m in r["measurements"]],
            safe_state=[SafeStateResult(s["device"], s["commanded"], s["verified"], s["detail"]) for s in r["safe_state"]],
            events=[RunEvent(e["t"], e["what"]) for e in r["events"]],
            end_time=r["time"]["end_s"], path=path, raw=r)

    @classmethod
    def load(cls, path: str) -> "Record":
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read(), path)

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check '{name}' in the record of {self.scenario}")

    def measurement(self, name: str) -> MeasurementResult:
        for m in self.measurements:
            if m.name == name:
                return m
        raise KeyError(f"no measurement '{name}' in the record of {self.scenario}")

    @property
    def failures(self) -> List[str]:
        """Each failing check and measurement, with its evidence or value and limits, one line each."""
        out = []
        for c in self.checks:
            if c.verdict == "FAIL":
                ev = c.evidence or {}
                seen = ", ".join(f"{k} = {v}" for k, v in (ev.get("values") or {}).items())
                out.append(f"check {c.name} FAILED ({c.kind} {c.condition}, {c.defined_at}): violated at "
                           f"t={ev.get('t')} s: {ev.get('what', '')}" + (f" [{seen}]" if seen else ""))
        for m in self.measurements:
            if m.verdict == "FAIL":
                out.append(f"measurement {m.name} FAILED: {m.value} {m.unit} outside [{m.low}, {m.high}] ({m.defined_at})")
        return out

    @property
    def safe(self) -> bool:
        """Every device was commanded to its safe state and verified by reading back."""
        return all(s.commanded and s.verified for s in self.safe_state)
