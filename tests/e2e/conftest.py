"""Shared fixtures for the end-to-end tests: the zhil program as a user runs it."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(os.environ.get("ZHIL_ROOT", pathlib.Path(__file__).resolve().parents[2]))
ZHIL = os.path.abspath(os.environ.get("ZHIL_BIN", str(ROOT / "build" / "bin" / "zhil")))


@pytest.fixture
def zhil():
    def run(*args, timeout=900, **kw):
        return subprocess.run([ZHIL, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kw)
    return run


@pytest.fixture
def root():
    return ROOT
