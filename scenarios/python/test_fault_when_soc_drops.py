"""Example 2: step a run, watch a signal, and inject a fault at the moment it computes: a cooling
loss on the pack once its state of charge has fallen 5 points below where it started. The
reference core must derate the pack as it heats, and the pack must never pass its limit."""
import zhil


def test_cooling_loss_when_the_pack_has_discharged(run):
    sc = (zhil.Scenario("cooling-loss-on-discharge", duration="3 h", station="bench-1pack", seed=5,
                        record_interval="10 s")
          .demand("0 s", power="120 kW")  # above the 100 kW import limit: the pack shaves the peak
          .check("pack_within_temperature_limit", always="pack1.t_max < 50")
          .check("no_unserved_load", always="hall.p_unserved < 1")
          .measure("hottest", "pack1.t_max", aggregate="max", unit="degC", high="50 degC"))
    with run(sc) as r:
        r.step()
        soc0 = r.signal("pack1.soc").value
        while r.signal("pack1.soc").value > soc0 - 0.05:
            assert r.step(), "the scenario ended before the pack discharged 5 points"
        t_fault = r.time
        r.inject("pack1", "cooling_loss", factor=8)
        r.until(t_fault + 3600)
        hot = r.signal("pack1.t_max").value
        rec = r.run_to_end()
    assert 60 < t_fault < 3 * 3600
    assert rec.verdict == "PASS", rec.failures
    assert any(e.what.startswith("host: inject cooling_loss on pack1") and abs(e.t - t_fault) < 0.2 for e in rec.events)
    series = r.timeseries()
    assert series.loc[t_fault + 1800:, "pack1.t_max"].max() > series.loc[:t_fault, "pack1.t_max"].max()  # it heated
    assert hot < 50
