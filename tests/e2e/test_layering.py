"""Dependencies flow one way: harness/ includes nothing of devices/, lab/ or bindings/; devices/
includes nothing of lab/ or bindings/."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)


def includes(folder):
    for f in (ROOT / folder).rglob("*"):
        if f.suffix in (".hpp", ".cpp", ".h"):
            for inc in INCLUDE.findall(f.read_text()):
                yield f.relative_to(ROOT), inc


def test_harness_includes_nothing_above_it():
    bad = [(f, i) for f, i in includes("harness") if i.split("/")[0] in ("devices", "lab", "bindings")]
    assert not bad, bad
    assert any(True for _ in includes("harness"))


def test_devices_include_nothing_above_them():
    bad = [(f, i) for f, i in includes("devices") if i.split("/")[0] in ("lab", "bindings")]
    assert not bad, bad
