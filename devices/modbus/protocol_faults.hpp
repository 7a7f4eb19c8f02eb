#pragma once
// The protocol faults a Modbus server of zhil injects, as stimuli of the device it serves
// (<device>.fault.modbus_delay, ...): set by the scenario's timeline, applied to the server. Shared by
// the simulators served over Modbus and the in-line proxy in front of a real device.
#include <string>

#include "devices/modbus/modbus_tcp_server.hpp"
#include "harness/signal_table.hpp"
#include "harness/status.hpp"

namespace zhil::modbus {

class ProtocolFaults {
 public:
  // Registers the stimuli; `comm_loss`: also read <device>.fault.comm_loss (a BMS that goes silent).
  Status configure(SignalTable& t, const std::string& device);
  void use_comm_loss(SignalId id) { comm_loss_ = id; }
  // The stimuli as they stand now, applied to the server (drop and restart on their rising edge).
  void apply(const SignalTable& t, ModbusTcpServer& server);

 private:
  SignalId delay_ = kNoSignal, no_reply_ = kNoSignal, exception_ = kNoSignal, freeze_ = kNoSignal, corrupt_ = kNoSignal,
           drop_ = kNoSignal, restart_ = kNoSignal, comm_loss_ = kNoSignal;
  bool drop_was_ = false, restart_was_ = false;
};

}  // namespace zhil::modbus
