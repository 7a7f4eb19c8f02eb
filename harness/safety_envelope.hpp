#pragma once
// The safety envelope: after the control core and before any device, every command is made finite
// and clamped to the station's per-device limits (power, current, SOC window, temperature), whatever
// the core (or a Python script) asked. It sits in C++ on the cycle path and cannot be bypassed: the
// loop only writes to devices after apply().
#include <cstdint>
#include <string>
#include <vector>

#include "harness/signal_table.hpp"

namespace zhil {

struct StationConfig;

class SafetyEnvelope {
 public:
  // Resolves the command and measurement signals of every pack and inverter; throws
  // std::runtime_error if the station's devices do not publish them.
  SafetyEnvelope(const StationConfig& station, const SignalTable& signals);
  void apply(SignalTable& signals);
  // How many commands were changed, over the run (reported in the record).
  std::uint64_t interventions() const { return interventions_; }

 private:
  struct Pack {
    SignalId soc, t_max, v, contactor_cmd, strip_request;
    double i_charge_max, i_discharge_max, soc_min, soc_max, t_max_c;
  };
  struct Inverter {
    SignalId p_set, q_set, grid_forming;
    double p_dis_max, p_ch_max, s_max;
    std::vector<Pack> packs;
  };
  void clamp(SignalTable& s, SignalId id, double lo, double hi);
  void to_bool(SignalTable& s, SignalId id, bool force_off);

  std::vector<Inverter> inverters_;
  std::uint64_t interventions_ = 0;
};

}  // namespace zhil
