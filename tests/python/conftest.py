"""The zhil Python package from the build tree (PYTHONPATH=build/python, set by ctest)."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(os.environ.get("ZHIL_ROOT", pathlib.Path(__file__).resolve().parents[2]))


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
