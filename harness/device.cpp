#include "harness/device.hpp"

namespace zhil {

const char* to_string(DeviceState s) {
  switch (s) {
    case DeviceState::unconfigured: return "unconfigured";
    case DeviceState::inactive: return "inactive";
    case DeviceState::active: return "active";
    case DeviceState::error: return "error";
  }
  return "?";
}

Status Device::fail(const std::string& during, const Status& s) {
  state_ = DeviceState::error;
  last_error_ = "device " + name_ + ": " + during + ": " + s.message();
  return Status::error(last_error_);
}

Status Device::configure(SignalTable& signals) {
  if (state_ != DeviceState::unconfigured)
    return Status::error("device " + name_ + ": configure in state " + to_string(state_));
  if (auto s = on_configure(signals); !s) return fail("configure", s);
  state_ = DeviceState::inactive;
  return Status::ok();
}

Status Device::activate(Time now) {
  if (state_ != DeviceState::inactive)
    return Status::error("device " + name_ + ": activate in state " + to_string(state_));
  if (auto s = on_activate(now); !s) return fail("activate", s);
  state_ = DeviceState::active;
  read_failures_ = 0;
  return Status::ok();
}

Status Device::read(Time now, SignalTable& signals) {
  if (state_ != DeviceState::active)
    return Status::error("device " + name_ + ": read in state " + to_string(state_));
  Status s = on_read(now, signals);
  if (s) {
    read_failures_ = 0;
    return s;
  }
  ++read_failures_;
  const Quality q = read_failures_ >= fault_after_ ? Quality::fault : Quality::stale;
  for (SignalId id : published_) signals.set_quality(id, q);
  if (read_failures_ >= fault_after_) return fail("read", s);
  return Status::error("device " + name_ + ": read: " + s.message());
}

Status Device::write(Time now, const SignalTable& signals) {
  if (state_ != DeviceState::active)
    return Status::error("device " + name_ + ": write in state " + to_string(state_));
  if (auto s = on_write(now, signals); !s) return fail("write", s);
  return Status::ok();
}

Status Device::deactivate() {
  if (state_ != DeviceState::active)
    return Status::error("device " + name_ + ": deactivate in state " + to_string(state_));
  if (auto s = on_deactivate(); !s) return fail("deactivate", s);
  state_ = DeviceState::inactive;
  return Status::ok();
}

Status Device::command_safe_state() {
  if (state_ == DeviceState::unconfigured) return Status::ok();  // never touched the hardware
  if (auto s = on_safe_state(); !s)
    return Status::error("device " + name_ + ": safe state: " + s.message());
  return Status::ok();
}

SafeStateReport Device::verify_safe_state() {
  if (state_ == DeviceState::unconfigured) return {true, "never configured"};
  return on_verify_safe_state();
}

Status Device::publish(SignalTable& t, const std::string& suffix, const std::string& unit,
                       SignalId* id) {
  if (auto s = t.add(name_ + "." + suffix, unit, SignalKind::measurement, name_, id); !s) return s;
  published_.push_back(*id);
  return Status::ok();
}

Status Device::publish_all(SignalTable& t, std::initializer_list<Published> signals) {
  for (const Published& s : signals)
    if (auto st = publish(t, s.suffix, s.unit, s.id); !st) return st;
  return Status::ok();
}

Status Device::consume(SignalTable& t, const std::string& suffix, const std::string& unit,
                       SignalKind kind, SignalId* id, double initial) {
  return t.add(name_ + "." + suffix, unit, kind, name_, id, initial);
}

}  // namespace zhil
