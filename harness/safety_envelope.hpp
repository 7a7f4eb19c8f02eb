#pragma once
// The safety envelope: after the control core and before any device, every command is made finite
// and clamped to the station's per-device limits (power, current per pack, SOC window, temperature),
// whatever the core (or a Python script, or an external EMS) asked. It also sets each inverter's
// output limits, which bound what the inverter does on its own (island, droop). It sits in C++ on
// the cycle path and cannot be bypassed: devices read only what it applied.
//
// What the core requested is never changed: the envelope writes "<command>.applied" beside it, from
// the request, every cycle. A core that writes a setpoint once keeps it, and gets it applied as soon
// as the limits allow. The opposite failure (ros2_control's stale setpoint after recovery) is
// refused too: a request written before a device's last activation or recovery is not replayed to
// it; its applied value is the safe one (0) until the core writes again.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness/config/station_config.hpp"
#include "harness/device.hpp"
#include "harness/signal_table.hpp"

namespace zhil {

class SafetyEnvelope {
 public:
  // The health of the device a command goes to (commands_valid_since), by device name; null when
  // the name is not a device (the request is then always fresh).
  using HealthOf = std::function<const DeviceHealth*(const std::string& device)>;
  // Resolves the command and measurement signals of every pack and inverter; throws
  // std::runtime_error if the station's devices do not publish them, or if a device takes a command
  // that nothing here can bound (no finite range declared, and no rule for it).
  SafetyEnvelope(const StationConfig& station, const SignalTable& signals, HealthOf health_of = nullptr);
  void apply(SignalTable& signals, Time now);
  // How many applied commands differed from their requests, summed over cycles (for the record).
  std::uint64_t interventions() const { return interventions_; }

  template <class Archive>
  void state(Archive& a) {
    a(interventions_);
  }

 private:
  struct Command {
    SignalId requested, applied;
    const DeviceHealth* health;
    Range range;
  };
  struct Pack {
    SignalId soc, t_max, v, i_ch_limit, i_dis_limit, contactor_cmd, strip_request, i_ch_allowed, i_dis_allowed;
    PackLimits limits;
  };
  struct Inverter {
    SignalId p_set, q_set, grid_forming, p_limit_discharge, p_limit_charge, p_ac;
    InverterLimits limits;
    std::vector<Pack> packs;
  };
  double bus_limit_w(const SignalTable& s, const Inverter& inv, bool discharge) const;
  static void clamp(SignalTable& s, SignalId id, double lo, double hi);
  static void set(SignalTable& s, SignalId id, double value);
  static void to_bool(SignalTable& s, SignalId id, bool force_off);

  std::vector<Command> commands_;
  std::vector<Inverter> inverters_;
  std::uint64_t interventions_ = 0;
};

}  // namespace zhil
