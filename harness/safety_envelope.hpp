#pragma once
// The safety envelope: after the control core and before any device, every command is made finite
// and clamped to the station's per-device limits (power, current per pack, SOC window, temperature),
// whatever the core (or a Python script) asked. It also sets each inverter's output limits, which
// bound what the inverter does on its own (island, droop). It sits in C++ on the cycle path and
// cannot be bypassed: the loop only writes to devices after apply().
#include <cstdint>
#include <string>
#include <vector>

#include "harness/config/station_config.hpp"
#include "harness/signal_table.hpp"

namespace zhil {

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
    SignalId soc, t_max, v, i_ch_limit, i_dis_limit, contactor_cmd, strip_request, i_ch_allowed, i_dis_allowed;
    PackLimits limits;
  };
  struct Inverter {
    SignalId p_set, q_set, grid_forming, p_limit_discharge, p_limit_charge;
    InverterLimits limits;
    std::vector<Pack> packs;
  };
  double bus_limit_w(const SignalTable& s, const Inverter& inv, bool discharge) const;
  void clamp(SignalTable& s, SignalId id, double lo, double hi);
  void set(SignalTable& s, SignalId id, double value);
  void to_bool(SignalTable& s, SignalId id, bool force_off);

  std::vector<Inverter> inverters_;
  std::uint64_t interventions_ = 0;
};

}  // namespace zhil
