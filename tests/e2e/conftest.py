"""Shared fixtures for the end-to-end tests: the zhil program as a user runs it."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(os.environ.get("ZHIL_ROOT", pathlib.Path(__file__).resolve().parents[2]))
ZHIL = os.path.abspath(os.environ.get("ZHIL_BIN", str(ROOT / "build" / "bin" / "zhil")))


@pytest.fixture(scope="session", autouse=True)
def results_store(tmp_path_factory):
    """Runs go to a results store of the session's own, never to zhil-results/ in the checkout."""
    if "ZHIL_DB" not in os.environ:
        os.environ["ZHIL_DB"] = str(tmp_path_factory.mktemp("store") / "results.db")
    return os.environ["ZHIL_DB"]


@pytest.fixture
def zhil():
    def run(*args, timeout=900, **kw):
        return subprocess.run([ZHIL, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kw)
    return run


@pytest.fixture
def root():
    return ROOT
