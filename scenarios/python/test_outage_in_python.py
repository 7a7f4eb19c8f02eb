"""Example 1: scenarios/grid-outage-island.yaml written in Python. It gets the same verdict and
the same time series, value for value, as the YAML file."""
import os

import pandas

import zhil

HERE = os.path.dirname(os.path.abspath(__file__))


def grid_outage_island():
    return (zhil.Scenario("grid-outage-island-py", duration="45 min", station="simulated", seed=11,
                          record_interval="1 s",
                          description="15 min outage under a 1 MW hall; island backup, then a smooth return")
            .demand("0 s", power="950 kW")
            .grid("10 min", outage=True)
            .grid("25 min", outage=False)
            .derive("site.import_1s", of="grid.p_import", op="mean", window="1 s")
            .derive("site.import_ramp", of="site.import_1s", op="rate", window="1 s")
            .check("no_unserved_load", always="hall.p_unserved < 1")
            .check("hall_never_on_its_own_backup", never="hall.on_backup")
            .check("islands_on_outage", eventually="inv1.mode == 2 && inv2.mode == 2", from_="10 min", within="1 s")
            .check("island_holds", always="inv1.mode == 2 && inv2.mode == 2 && grid.p_import == 0",
                   from_="600.2 s", until="25 min")
            .check("back_to_grid_following", eventually="inv1.mode == 1 && inv2.mode == 1", from_="25 min",
                   within="1 s")
            .check("smooth_return", always="abs(site.import_ramp) <= 60e3", from_="1501 s")
            .check("no_inverter_trip", never="inv1.tripped || inv2.tripped")
            .measure("energy_from_packs_in_island", "inv1.p_ac", aggregate="integral", unit="Wh", from_="10 min",
                     until="25 min", low="100 kWh", high="140 kWh")
            .measure("lowest_pack_soc", "pack1.soc", aggregate="min", unit="1", low=0.3))


def test_the_python_scenario_is_the_yaml_scenario(run):
    with run(grid_outage_island()) as py:
        rec_py = py.run_to_end()
    with run(os.path.join(HERE, "..", "grid-outage-island.yaml")) as yml:
        rec_yaml = yml.run_to_end()
    assert rec_py.verdict == rec_yaml.verdict == "PASS"
    assert [(c.name, c.verdict) for c in rec_py.checks] == [(c.name, c.verdict) for c in rec_yaml.checks]
    assert [(m.name, m.value) for m in rec_py.measurements] == [(m.name, m.value) for m in rec_yaml.measurements]
    pandas.testing.assert_frame_equal(py.timeseries(), yml.timeseries(), check_exact=True)
