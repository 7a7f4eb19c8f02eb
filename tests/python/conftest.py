"""The zhil Python package from the build tree (PYTHONPATH=build/python, set by ctest)."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(os.environ.get("ZHIL_ROOT", pathlib.Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="session", autouse=True)
def results_store(tmp_path_factory):
    """Runs go to a results store of the session's own, never to zhil-results/ in the checkout."""
    if "ZHIL_DB" not in os.environ:
        os.environ["ZHIL_DB"] = str(tmp_path_factory.mktemp("store") / "results.db")
    return os.environ["ZHIL_DB"]


@pytest.fixture
def root():
    return ROOT


@pytest.fixture
def python_script(tmp_path):
    """Runs a Python script as its own process (Debian's python3, the build tree's zhil)."""
    def start(text, **kw):
        f = tmp_path / "script.py"
        f.write_text(text)
        import zhil
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(zhil.__file__))))
        return subprocess.Popen([sys.executable, "-u", str(f)], cwd=str(tmp_path), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, **kw)
    return start
