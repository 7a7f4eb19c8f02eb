"""pytest plugin for zhil: load it with ``-p zhil.pytest_plugin`` (installed, pytest loads it by its
entry point).

Options:
  --station FILE|NAME   run every test's scenarios on this station (default: each scenario's own)
  --dut-serial SN       the serial of the device under test, stamped into every record
  --zhil-db DB          the results store every run goes into (default: $ZHIL_DB, else
                        zhil-results/results.db)
  --realtime            follow the wall clock (real hardware)
  --zhil-out DIR        where each test's records go (default: zhil-results/pytest)

Fixtures:
  station   the zhil.Station of --station (default: the built-in simulated station)
  run       a factory: ``run(scenario, **kwargs)`` starts a zhil.Run with the options above, its
            results in DIR/<test>/; the plugin finishes it after the test if the test did not.

Marker:
  @pytest.mark.hardware   the test needs real hardware: skipped, with the reason, on a station
                          whose devices are all simulators.

After each test, each of its runs' verdict, DUT serial, station and measurement values are
attached to the JUnit XML as properties, and a failing zhil check or measurement fails the test
with its evidence.
"""
from __future__ import annotations

import hashlib
import os
import re
from typing import Any, Callable, Dict, List

import pytest

import zhil

_RUNS = pytest.StashKey[List["zhil.Run"]]() if hasattr(pytest, "StashKey") else None


def pytest_addoption(parser: Any) -> None:
    g = parser.getgroup("zhil", "zhil hardware-in-the-loop harness")
    g.addoption("--station", default=None, metavar="FILE|NAME",
                help="station to run every scenario on (default: each scenario's own)")
    g.addoption("--dut-serial", default=None, metavar="SN", help="serial of the device under test, for the records")
    g.addoption("--realtime", action="store_true", default=False, help="run in real time (real hardware)")
    g.addoption("--zhil-db", default=None, metavar="DB",
                help="results store for every run: a SQLite file or a postgresql:// URI "
                     "(default: $ZHIL_DB, else zhil-results/results.db)")
    g.addoption("--zhil-out", default=None, metavar="DIR",
                help="folder for each test's records (default: zhil-results/pytest)")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "hardware: the test needs real hardware; skipped on a simulated station")


def _station(config: Any) -> "zhil.Station":
    given = config.getoption("--station")
    return zhil.Station.load(given or "simulated")


def pytest_runtest_setup(item: Any) -> None:
    if item.get_closest_marker("hardware") is None:
        return
    st = _station(item.config)
    if st.simulated:
        given = item.config.getoption("--station")
        pytest.skip(f"needs real hardware: station {st.name} ({st.file}) has only simulators"
                    + ("" if given else "; give a bench with --station"))


def _out_root(config: Any) -> str:
    given = config.getoption("--zhil-out")
    base = given or os.path.join("zhil-results", "pytest")
    return os.path.join(str(config.invocation_params.dir), base) if not os.path.isabs(base) else base


def _test_folder(nodeid: str) -> str:
    # tests/test_x.py::test_y[a b] -> tests_test_x.py_test_y_a_b: readable; when that loses anything
    # (another test could give the same name), a short hash of the test id keeps it apart.
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("_")
    if name != nodeid.replace("/", "_").replace("::", "_") or len(name) > 120:
        name = name[:120] + "-" + hashlib.sha256(nodeid.encode()).hexdigest()[:8]
    return name


@pytest.fixture
def station(request: Any) -> "zhil.Station":
    """The station of --station (default: the built-in simulated station)."""
    return _station(request.config)


@pytest.fixture
def run(request: Any) -> Callable[..., "zhil.Run"]:
    """Starts runs: ``with run("scenarios/x.yaml") as r: ...`` or ``run(scenario).run_to_end()``.
    Keyword arguments are zhil.run's; --station, --realtime and --dut-serial apply unless given."""
    cfg = request.config
    runs: List[zhil.Run] = []
    request.node.stash[_RUNS] = runs
    folder = os.path.join(_out_root(cfg), _test_folder(request.node.nodeid))

    def start(scenario: Any, **kwargs: Any) -> "zhil.Run":
        if cfg.getoption("--station") and "station" not in kwargs:
            kwargs["station"] = cfg.getoption("--station")
        kwargs.setdefault("realtime", cfg.getoption("--realtime"))
        if cfg.getoption("--dut-serial"):
            kwargs.setdefault("dut_serial", cfg.getoption("--dut-serial"))
        if cfg.getoption("--zhil-db") is not None:
            kwargs.setdefault("db", cfg.getoption("--zhil-db"))
        if "out" not in kwargs:
            kwargs["out"] = folder if not runs else f"{folder}-{len(runs) + 1}"
            kwargs.setdefault("overwrite", True)  # a rerun of the same test replaces its own results
        r = zhil.run(scenario, **kwargs)
        runs.append(r)
        return r

    yield start
    for r in runs:  # a test that raised: its runs are finished here (the bench made safe)
        if r.record is None:
            r.finish()
    runs.clear()  # nothing of the test's runs is kept for the rest of the session


def _finish(runs: List["zhil.Run"]) -> List["zhil.Record"]:
    records = []
    for r in runs:
        rec = r.record
        if rec is None:
            rec = r.finish()
        records.append(rec)
    return records


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Any:
    outcome = yield
    runs = item.stash.get(_RUNS, []) if _RUNS is not None else []
    if not runs:
        return
    records = _finish(runs)
    for rec in records:
        item.user_properties.append(("zhil_verdict", rec.verdict))
        item.user_properties.append(("zhil_scenario", rec.scenario))
        item.user_properties.append(("zhil_station", rec.station))
        item.user_properties.append(("zhil_dut_serial", rec.dut_serial or ", ".join(d["serial"] for d in rec.dut)))
        item.user_properties.append(("zhil_record", rec.path))
        for m in rec.measurements:
            value = "" if m.value is None else f"{m.value:.9g}"
            item.user_properties.append((f"measurement.{m.name}", f"{value} {m.unit} [{m.low}, {m.high}] {m.verdict}"))
    if outcome.excinfo is not None:
        return  # the test's own failure is the one reported
    failures: List[str] = []
    for rec in records:
        for line in rec.failures:
            failures.append(f"{rec.scenario}: {line}")
        if rec.verdict == "ERROR":
            failures.append(f"{rec.scenario}: ERROR: {rec.error}")
    if failures:
        raise AssertionError("zhil: " + "\n".join(failures) + "\n(records: " +
                             ", ".join(rec.path or "" for rec in records) + ")")
