#include "devices/modbus/protocol_faults.hpp"

#include <tuple>

namespace zhil::modbus {

Status ProtocolFaults::configure(SignalTable& t, const std::string& device) {
  for (auto [suffix, unit, id] : {std::tuple{"fault.modbus_delay", "s", &delay_}, {"fault.modbus_no_reply", "1", &no_reply_},
                                  {"fault.modbus_exception", "1", &exception_}, {"fault.modbus_freeze", "1", &freeze_},
                                  {"fault.modbus_corrupt", "1", &corrupt_}, {"fault.modbus_drop", "1", &drop_},
                                  {"fault.modbus_restart", "s", &restart_}})
    if (auto s = t.add(device + "." + suffix, unit, SignalKind::stimulus, device, id); !s) return s;
  return Status::ok();
}

void ProtocolFaults::apply(const SignalTable& t, ModbusTcpServer& server) {
  ServerFaults f;
  const double delay = t.value(delay_);
  f.delay = delay > 0 ? std::chrono::duration_cast<Duration>(std::chrono::duration<double>(delay)) : Duration{0};
  f.no_reply = t.value(no_reply_) > 0.5 || (comm_loss_ != kNoSignal && t.value(comm_loss_) > 0.5);
  const double ex = t.value(exception_);
  f.exception = ex >= 1 && ex <= 255 ? static_cast<int>(ex) : 0;
  f.freeze = t.value(freeze_) > 0.5;
  f.corrupt = t.value(corrupt_) > 0.5;
  server.set_faults(f);
  const bool drop = t.value(drop_) > 0.5;
  if (drop && !drop_was_) server.drop_connections();
  drop_was_ = drop;
  const double restart = t.value(restart_);
  if (restart > 0 && !restart_was_) server.restart(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(restart)));
  restart_was_ = restart > 0;
}

}  // namespace zhil::modbus
