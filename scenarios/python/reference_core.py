"""zhil's reference energy-management core (harness/control/reference_energy_manager.cpp) ported
to Python line for line: the example of a Python control core, and the benchmark's. The same
arithmetic in the same order, so on the same station and seed it gives the C++ core's time series
exactly (test_python_core.py checks that).
"""
import math

import zhil


def clamp(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


class DemandForecast:
    """harness/control/demand_forecast.cpp: 96 bins of 15 min, each bin's mean smoothed over days."""

    def __init__(self, bins_per_day=96, alpha=0.5):
        self.bin_s = 86400.0 / bins_per_day
        self.alpha = alpha
        self.mean = [0.0] * bins_per_day
        self.seen = [False] * bins_per_day
        self.bins_learned = 0
        self.current_bin = -1
        self.acc_w_s = self.acc_s = 0.0
        self.recent_w = 0.0
        self.any = False

    def bin_of(self, tod_s):
        t = math.fmod(tod_s, 86400.0)
        if t < 0:
            t += 86400.0
        return min(int(t / self.bin_s), len(self.mean) - 1)

    def learned(self):
        return self.bins_learned == len(self.mean)

    def observe(self, tod_s, load_w, dt_s):
        b = self.bin_of(tod_s)
        if b != self.current_bin:
            if self.current_bin >= 0 and self.acc_s > 0:
                m = self.acc_w_s / self.acc_s
                if not self.seen[self.current_bin]:
                    self.mean[self.current_bin] = m
                    self.seen[self.current_bin] = True
                    self.bins_learned += 1
                else:
                    self.mean[self.current_bin] += self.alpha * (m - self.mean[self.current_bin])
            self.current_bin = b
            self.acc_w_s = self.acc_s = 0.0
        self.acc_w_s += load_w * dt_s
        self.acc_s += dt_s
        self.recent_w = self.recent_w + 0.01 * (load_w - self.recent_w) if self.any else load_w
        self.any = True

    def at(self, tod_s):
        b = self.bin_of(tod_s)
        return self.mean[b] if self.seen[b] else self.recent_w

    def energy_above(self, limit_w, tod_s, horizon_s):
        wh, t = 0.0, 0.0
        while t < horizon_s:
            wh += max(0.0, self.at(tod_s + t) - limit_w) * self.bin_s / 3600.0
            t += self.bin_s
        return wh

    def in_low_demand_window(self, tod_s, width_s, horizon_s):
        if not self.learned():
            return False
        n = max(1, int(width_s / self.bin_s))
        best, best_start, start = math.inf, 0.0, 0.0
        while start + width_s <= horizon_s + 1e-9:
            s = 0.0
            for k in range(n):
                s += self.at(tod_s + start + k * self.bin_s)
            if s < best - 1e-6:
                best, best_start = s, start
            start += self.bin_s
        return best_start < self.bin_s


MAINTENANCE_DISCHARGE = 712.0


class ReferenceCore(zhil.ControlCore):
    """Peak shaving against a grid-import limit, charging ahead of forecast peaks, backup on
    outage with an SOC reserve, temperature derating, frequency support, strip placement."""

    def configure(self, context, io):
        p = context.params
        p.expect_keys(["grid_import_limit", "import_ramp_limit", "charge_margin", "soc_reserve", "soc_max",
                       "derate_start", "derate_end", "frequency_deadband", "strip_window", "strip_max_defer",
                       "backup", "pack_energy", "import_margin"])
        k_max = 1e10
        self.import_margin = p.quantity("import_margin", "W", 0.0, 0, k_max)
        self.import_limit = p.quantity("grid_import_limit", "W", 1e6, 0, k_max)
        self.ramp = p.quantity("import_ramp_limit", "W/s", 50e3, 1e-3, k_max)
        self.charge_margin = p.quantity("charge_margin", "W", 50e3, 0, k_max)
        self.soc_reserve = p.quantity("soc_reserve", "1", 0.3, 0, 1)
        self.soc_max = p.quantity("soc_max", "1", 0.95, 0, 1)
        self.derate_start = p.quantity("derate_start", "degC", 40, -40, 150)
        self.derate_end = p.quantity("derate_end", "degC", 50, -40, 150)
        self.f_deadband = p.quantity("frequency_deadband", "Hz", 0.036, 0, 5)
        self.strip_window = p.quantity("strip_window", "s", 3 * 3600, 0, 30 * 86400.0)
        self.strip_max_defer = p.quantity("strip_max_defer", "s", 12 * 3600, 0, 30 * 86400.0)
        self.energy_capacity = p.quantity("pack_energy", "Wh", 160e3, 1, 1e9)
        self.backup = p.flag("backup", True)
        st = context.station
        self.f_nominal = st.nominal_frequency
        self.tod0 = context.start_time_of_day
        self.cycle_s = context.cycle
        devices = {d["name"]: d for d in st.devices}
        self.inverters = []
        for name in st.with_role("inverter"):
            n = name + "."
            inv = {"p_ac": io.input(n + "p_ac"), "p_avail_dis": io.input(n + "p_available_discharge"),
                   "p_avail_ch": io.input(n + "p_available_charge"), "p_set": io.command(n + "p_set"),
                   "q_set": io.command(n + "q_set"), "grid_forming": io.command(n + "grid_forming_enable"),
                   "packs": []}
            for pn in devices[name]["packs"]:
                m = pn + "."
                inv["packs"].append({"soc": io.input(m + "soc"), "t_max": io.input(m + "t_max"),
                                     "strip_due": io.input(m + "strip_due"), "stripping": io.input(m + "stripping"),
                                     "contactor_cmd": io.command(m + "contactor_cmd"),
                                     "strip_request": io.command(m + "strip_request"), "state": io.input(m + "state"),
                                     "due_since": -1.0})
            self.inverters.append(inv)
        self.loads = [io.input(name + ".p") for name in st.with_role("load")]
        g = st.with_role("grid")[0] + "."
        self.grid_available = io.input(g + "available")
        self.grid_f = io.input(g + "f")
        self.out_forecast = io.publish("core.forecast", "W")
        self.out_target = io.publish("core.soc_target", "1")
        self.out_import_target = io.publish("core.import_target", "W")
        self.forecast = DemandForecast()
        self.import_target = 0.0
        self.started = False
        self.was_on_grid = True

    def temperature_factor(self, inv, io):
        hottest = -1e9
        for p in inv["packs"]:
            hottest = max(hottest, io.get(p["t_max"]))
        return clamp((self.derate_end - hottest) / (self.derate_end - self.derate_start), 0.0, 1.0)

    def step(self, t, io):
        get, put = io.get, io.set
        tod = math.fmod(self.tod0 + t, 86400.0)
        load = 0.0
        for l in self.loads:
            load += get(l)
        fc = self.forecast
        fc.observe(tod, load, self.cycle_s)

        soc_sum, soc_n, p_ac = 0.0, 0.0, 0.0
        for inv in self.inverters:
            p_ac += get(inv["p_ac"])
            for p in inv["packs"]:
                soc_sum += get(p["soc"])
                soc_n += 1
        soc = soc_sum / soc_n if soc_n > 0 else 0.0

        soc_target = self.soc_max
        if fc.learned():
            need_wh = 1.5 * fc.energy_above(self.import_limit - self.import_margin, tod, 86400.0)
            soc_target = min(self.soc_max, self.soc_reserve + need_wh / max(1.0, self.energy_capacity * soc_n) + 0.10)

        on_grid = get(self.grid_available) > 0.5
        df = get(self.grid_f) - self.f_nominal
        under_f, over_f = df < -self.f_deadband, df > self.f_deadband

        if not self.started or (on_grid and not self.was_on_grid):
            self.import_target = min(self.import_limit - self.import_margin, load - p_ac)
            self.started = True
        self.was_on_grid = on_grid

        limit = self.import_limit - self.import_margin
        charge = 0.0
        if soc < soc_target:
            charge = max(0.0, limit - self.charge_margin - load)
        desired = min(limit, load + charge)
        if soc <= self.soc_reserve:
            desired = max(desired, load)
        if under_f:
            desired = min(desired, load)
            self.import_target = min(self.import_target, desired)
        elif over_f:
            desired = max(desired, min(load, limit))
            self.import_target = max(self.import_target, desired)
        else:
            step = self.ramp * self.cycle_s
            self.import_target += clamp(desired - self.import_target, -step, step)
        self.import_target = min(self.import_target, limit)
        if soc <= self.soc_reserve:
            self.import_target = max(self.import_target, min(load, limit))
        battery = load - self.import_target
        if soc <= self.soc_reserve and battery > 0:
            battery = 0.0

        avail, avail_sum = [], 0.0
        for inv in self.inverters:
            a = (get(inv["p_avail_dis"]) if battery >= 0 else get(inv["p_avail_ch"])) * self.temperature_factor(inv, io)
            avail.append(a)
            avail_sum += a
        for inv in self.inverters:
            busy = False
            for p in inv["packs"]:
                busy = busy or get(p["stripping"]) > 0.5
            for p in inv["packs"]:
                due = get(p["strip_due"]) > 0.5
                if not due:
                    p["due_since"] = -1.0
                elif p["due_since"] < 0:
                    p["due_since"] = t
                request = False
                if due and not busy and on_grid:
                    window = fc.in_low_demand_window(tod, self.strip_window, 86400.0)
                    request = window or t - p["due_since"] >= self.strip_max_defer
                    busy = busy or request
                put(p["strip_request"], 1.0 if request else 0.0)
                put(p["contactor_cmd"], 1.0)
        n_inv = float(len(self.inverters))
        for k, inv in enumerate(self.inverters):
            share = battery * avail[k] / avail_sum if avail_sum > 0 else 0.0
            share = clamp(share, -avail[k], avail[k])
            draining = False
            for p in inv["packs"]:
                draining = draining or get(p["state"]) == MAINTENANCE_DISCHARGE
            if draining and on_grid:
                share = max(share, min(get(inv["p_avail_dis"]), load / n_inv))
            put(inv["p_set"], share if on_grid else get(inv["p_ac"]))
            put(inv["q_set"], 0.0)
            put(inv["grid_forming"], 1.0 if self.backup else 0.0)
        put(self.out_forecast, fc.at(tod))
        put(self.out_target, soc_target)
        put(self.out_import_target, self.import_target)
