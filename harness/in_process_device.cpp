#include "harness/in_process_device.hpp"

#include "harness/checkpoint/state_archive.hpp"

namespace zhil {

void InProcessDevice::on_activate(Time now) { answer(now); }
void InProcessDevice::on_read(Time now) { answer(now); }
void InProcessDevice::on_write(Time now, const SignalTable&) { answer(now); }
void InProcessDevice::on_safe_state() { answer(clock()->now()); }
void InProcessDevice::on_verify_safe_state() { answer(clock()->now()); }

void InProcessDevice::answer(Time now) {
  if (latency_ <= Duration{0}) {
    run_op(now);
    return;
  }
  reply_ = clock()->call_after(latency_, [this, token = op_token()] {
    reply_ = kNoTimer;
    if (token == op_token()) run_op(clock()->now());
  });
}

void InProcessDevice::run_op(Time now) {
  const OpToken token = op_token();
  try {
    if (in_flight() != DeviceOp::none) host_contact(now);
    switch (in_flight()) {
      case DeviceOp::activate: complete(activate_now(now)); break;
      case DeviceOp::read: complete(read_now(now)); break;
      case DeviceOp::write: complete(write_now(now, *signals())); break;
      case DeviceOp::safe_state: complete(safe_state_now()); break;
      case DeviceOp::verify: complete_verify(verify_now()); break;
      case DeviceOp::none: break;
    }
  } catch (const std::exception& e) {
    complete(token, Status::error(std::string(to_string(in_flight())) + " threw: " + e.what()));
  }
}

void InProcessDevice::on_deactivate() {
  if (reply_ != kNoTimer && clock()) clock()->cancel(reply_);
  reply_ = kNoTimer;
}

void InProcessDevice::save_state(StateWriter& a) const {
  state_section(a, name());
  a(latency_);
  const_cast<InProcessDevice*>(this)->state_more(a);
}

void InProcessDevice::load_state(StateReader& a) {
  state_section(a, name());
  a(latency_);
  state_more(a);
}

}  // namespace zhil
