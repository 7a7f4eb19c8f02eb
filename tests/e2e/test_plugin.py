"""Out-of-tree drivers: a model registered by a shared library that zhil loads with --plugin, used
by a station like any in-tree model, with no central list edited."""
import json
import os

import pytest

PLUGIN = os.environ.get("ZHIL_PLUGIN")

STATION = """station: plugin-bench
cycle: 100 ms
core:
  name: reference
  params: {grid_import_limit: 100 kW, import_ramp_limit: 5 kW/s, soc_reserve: 30 %, pack_energy: 159 kWh}
devices:
  - {name: grid, role: grid, model: grid-simulator}
  - {name: hall, role: load, model: load-simulator, params: {power: 80 kW}}
  - name: inv1
    role: inverter
    model: inverter-simulator
    params: {file: ROOT/fixtures/inverters/pcs-750kva.yaml, s_rated: 100 kVA, p_rated: 100 kW, i_max: 130 A, no_load_loss: 200 W}
    packs: [pack1]
    limits: {p_discharge_max: 100 kW, p_charge_max: 100 kW, s_max: 100 kVA}
  - name: pack1
    role: pack
    model: counting-pack
    params: {file: ROOT/fixtures/packs/zh-160kwh-16s.yaml}
    limits: {i_charge_max: 60 A, i_discharge_max: 95 A, soc_min: 5 %, soc_max: 97 %, t_max: 50 degC}
"""

SCENARIO = """scenario: plugin
station: station.yaml
duration: 1 min
checks:
  - {name: counted, eventually: "pack1.reads >= 600", from: 0 s, within: 1 min}
"""


@pytest.fixture
def files(tmp_path, root):
    (tmp_path / "station.yaml").write_text(STATION.replace("ROOT", str(root)))
    (tmp_path / "s.yaml").write_text(SCENARIO)
    return tmp_path


@pytest.mark.skipif(not PLUGIN, reason="ZHIL_PLUGIN not set: run through ctest, which builds the example plugin")
def test_a_plugin_model_runs_like_an_in_tree_one(zhil, files):
    r = zhil("run", files / "s.yaml", "--plugin", PLUGIN, "--out", files / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    rec = json.loads((files / "out" / "record.json").read_text())
    assert rec["verdict"] == "PASS"
    assert [d["model"] for d in rec["devices"] if d["name"] == "pack1"] == ["counting-pack"]
    listing = zhil("list", "--plugin", PLUGIN)
    assert "counting-pack" in listing.stdout and "example plugin" in listing.stdout


def test_without_the_plugin_the_model_is_unknown_where_it_is_named(zhil, files):
    r = zhil("run", files / "s.yaml", "--out", files / "out")
    assert r.returncode == 2
    assert "station.yaml:17:12: devices[3].model: unknown model 'counting-pack'" in r.stderr, r.stderr
    assert "pack-simulator" in r.stderr  # what this build does know


def test_a_plugin_that_does_not_load_is_a_clear_error(zhil, files):
    bad = files / "not-a-plugin.so"
    bad.write_text("nothing here")
    r = zhil("run", files / "s.yaml", "--plugin", bad, "--out", files / "out")
    assert r.returncode == 2
    assert "plugin" in r.stderr and "not-a-plugin.so" in r.stderr
