#include "devices/modbus/simulator_nameplate.hpp"

#include <cmath>

namespace zhil::modbus {

namespace {

// The smallest scale factor (-3 and up) at which `max_abs` fits the point's integer type.
int scale_factor_for(double max_abs, bool is_signed, bool wide = false) {
  const double top = wide ? (is_signed ? 2147483647.0 : 4294967294.0) : (is_signed ? 32767.0 : 65534.0);
  for (int sf = -3; sf <= 10; ++sf)
    if (max_abs / std::pow(10.0, sf) <= top) return sf;
  return 10;
}

// Points the map does not have are skipped (a SunSpec map without model 711 has no droop settings).
Status nameplate(SimulatorRegisters& r, const std::vector<std::pair<const char*, double>>& points) {
  for (const auto& [name, value] : points)
    if (auto s = r.set_point(name, value); !s)
      if (s.message().rfind("no point", 0) != 0) return s;
  return Status::ok();
}

}  // namespace

Status inverter_nameplate(SimulatorRegisters& r, const sim::InverterParams& p, const std::string& serial) {
  const double w = std::max(p.p_rated_w, p.s_rated_va) * 1.5;
  auto st = nameplate(r,
            {{"701.W_SF", scale_factor_for(w, true)}, {"701.Var_SF", scale_factor_for(w, true)}, {"701.Hz_SF", -3},
             {"701.ACType", 2}, {"701.St", 1}, {"702.W_SF", scale_factor_for(w, false)},
             {"702.VA_SF", scale_factor_for(w, false)}, {"702.WMaxRtg", p.p_rated_w}, {"702.VAMaxRtg", p.s_rated_va},
             {"704.WSet_SF", 0}, {"704.VarSet_SF", 0}, {"704.WMaxLimPct_SF", -2}, {"711.Db_SF", -3}, {"711.K_SF", -3},
             {"711.RspTms_SF", 0}, {"711.Ctl.DbOf", p.droop_deadband_hz}, {"711.Ctl.DbUf", p.droop_deadband_hz},
             {"711.Ctl.KOf", p.droop}, {"711.Ctl.KUf", p.droop}, {"711.Ctl.RspTms", p.droop_response_s},
             {"713.WH_SF", 2}, {"713.Pct_SF", -1}, {"802.WChaDisChaMax_SF", scale_factor_for(w, false)}});
  (void)r.set_string("1.Mn", "zhil");
  (void)r.set_string("1.Md", "inverter-simulator");
  (void)r.set_string("1.SN", serial);
  (void)r.set_string("1.Vr", "2.6");  // the ZBM map's firmware register says 0x00020006
  return st;
}

Status pack_nameplate(SimulatorRegisters& r, const sim::PackParams& p, const std::string& serial) {
  const double v_max = p.modules * p.cells_per_module * 2.2;
  const double i_max = std::max(p.i_trip_a, std::max(p.i_charge_max_a, p.i_discharge_max_a)) * 1.5;
  const double wh = p.modules * p.cells_per_module * 1.8 * p.capacity_ah;
  auto st = nameplate(r,
            {{"802.AHRtg_SF", scale_factor_for(p.capacity_ah, false)}, {"802.WHRtg_SF", scale_factor_for(wh, false)},
             {"802.WChaDisChaMax_SF", scale_factor_for(v_max * i_max, false)}, {"802.SoC_SF", -2}, {"802.SoH_SF", 0},
             {"802.DoD_SF", 0}, {"802.V_SF", scale_factor_for(v_max, false)}, {"802.CellV_SF", -3},
             {"802.A_SF", scale_factor_for(i_max, true)}, {"802.AMax_SF", scale_factor_for(i_max, false)},
             {"802.W_SF", scale_factor_for(v_max * i_max, true)}, {"802.AHRtg", p.capacity_ah}, {"802.WHRtg", wh},
             {"802.Typ", 10}, {"802.LocRemCtl", 0}, {"802.Evt1", 0}, {"802.Evt2", 0}, {"802.EvtVnd1", 0},
             {"802.EvtVnd2", 0}, {"713.WH_SF", scale_factor_for(wh, false)}, {"713.Pct_SF", -1}, {"713.WHRtg", wh},
             // The ZBM map's constant registers (a string of modules: the same on every unit).
             {"firmware", 0x00020006}, {"serial", 1}, {"summary_status", 1}, {"soh", 100}});
  (void)r.set_string("1.Mn", "zhil");
  (void)r.set_string("1.Md", "pack-simulator");
  (void)r.set_string("1.SN", serial);
  (void)r.set_string("1.Vr", "2.6");  // the ZBM map's firmware register says 0x00020006
  return st;
}


}  // namespace zhil::modbus
