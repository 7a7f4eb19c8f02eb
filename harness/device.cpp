#include "harness/device.hpp"

namespace zhil {

namespace {
const Quality kGood = Quality::good;
}

const char* to_string(DeviceState s) {
  switch (s) {
    case DeviceState::unconfigured: return "unconfigured";
    case DeviceState::inactive: return "inactive";
    case DeviceState::active: return "active";
    case DeviceState::error: return "error";
  }
  return "?";
}

const char* to_string(DeviceOp op) {
  switch (op) {
    case DeviceOp::none: return "none";
    case DeviceOp::activate: return "activate";
    case DeviceOp::read: return "read";
    case DeviceOp::write: return "write";
    case DeviceOp::safe_state: return "safe state";
    case DeviceOp::verify: return "verify";
  }
  return "?";
}

Status Device::fail(const std::string& during, const Status& s) {
  state_ = DeviceState::error;
  last_error_ = "device " + name_ + ": " + during + ": " + s.message();
  return Status::error(last_error_);
}

Status Device::configure(DeviceContext& context) {
  if (state_ != DeviceState::unconfigured)
    return Status::error("device " + name_ + ": configure in state " + to_string(state_));
  signals_ = &context.signals;
  clock_ = &context.clock;
  requested_watchdog_ = context.watchdog;
  if (auto s = on_configure(context); !s) return fail("configure", s);
  bool contiguous = !published_.empty();
  for (std::size_t k = 1; k < published_.size(); ++k)
    if (published_[k] != published_[0] + k) contiguous = false;
  if (contiguous) published_run_ = context.signals.add_run(published_.front(), published_.size());
  state_ = DeviceState::inactive;
  return Status::ok();
}

bool Device::start(DeviceOp op, DeviceState required, bool any_configured_state) {
  if (in_flight_ != DeviceOp::none || state_ == DeviceState::unconfigured || !signals_) return false;
  if (!any_configured_state && state_ != required) return false;
  in_flight_ = op;
  ++op_seq_;
  return true;
}

template <class Hook>
void Device::guarded(DeviceOp op, Hook hook) {
  const OpToken token = op_seq_;
  try {
    hook();
  } catch (const std::exception& e) {
    complete(token, Status::error(std::string(to_string(op)) + " threw: " + e.what()));
  } catch (...) {
    complete(token, Status::error(std::string(to_string(op)) + " threw"));
  }
}

bool Device::start_activate(Time now) {
  if (!start(DeviceOp::activate, DeviceState::inactive, false)) return false;
  guarded(DeviceOp::activate, [&] { on_activate(now); });
  return true;
}

bool Device::start_read(Time now) {
  if (!start(DeviceOp::read, DeviceState::active, false)) return false;
  guarded(DeviceOp::read, [&] { on_read(now); });
  return true;
}

bool Device::start_write(Time now) {
  // A device just lost (its reads fail) still gets the envelope's last commands: they may get through.
  if (!start(DeviceOp::write, DeviceState::active, state_ == DeviceState::error)) return false;
  guarded(DeviceOp::write, [&] { on_write(now, *signals_); });
  return true;
}

bool Device::start_safe_state() {
  if (!start(DeviceOp::safe_state, DeviceState::active, true)) return false;
  guarded(DeviceOp::safe_state, [&] { on_safe_state(); });
  return true;
}

bool Device::start_verify_safe_state() {
  if (!start(DeviceOp::verify, DeviceState::active, true)) return false;
  report_ = {};
  guarded(DeviceOp::verify, [&] { on_verify_safe_state(); });
  return true;
}

void Device::publish(Time stamp, SignalTable& signals) {
  // Stamped and marked good first: a driver that marks a reading invalid in on_publish (a sensor
  // fault flag) has the last word.
  if (published_run_ != 0xffffffffu) {
    signals.stamp_run(published_run_, stamp, &kGood);
  } else {
    for (SignalId id : published_) signals.set(id, signals.value(id), stamp);
  }
  on_publish(stamp, signals);
}

void Device::complete(const Status& status) {
  const DeviceOp op = in_flight_;
  if (op == DeviceOp::none) return;  // a device bug: nothing to complete
  in_flight_ = DeviceOp::none;
  if (status && op != DeviceOp::activate) {  // the cycle's fast path
    if (observer_) observer_->device_done(*this, op, status);
    return;
  }
  Status reported = status;
  if (op == DeviceOp::activate) {
    if (status) {
      state_ = DeviceState::active;
      health_ = DeviceHealth{};
      health_.commands_valid_since = clock_ ? clock_->now() : Time{0};
    } else {
      reported = fail("activate", status);
    }
  } else if (!status) {
    reported = Status::error("device " + name_ + ": " + to_string(op) + ": " + status.message());
  }
  if (op == DeviceOp::verify && !status) report_ = {false, status.message()};
  if (observer_) observer_->device_done(*this, op, reported);
}

void Device::complete_verify(SafeStateReport report) {
  report_ = std::move(report);
  complete(Status::ok());
}

void Device::deactivate() {
  if (state_ == DeviceState::unconfigured || !clock_) return;
  on_deactivate();
  in_flight_ = DeviceOp::none;
  if (state_ == DeviceState::active) state_ = DeviceState::inactive;
}

void Device::abandon() {
  if (in_flight_ == DeviceOp::none) return;
  on_abandon();
  in_flight_ = DeviceOp::none;
  ++op_seq_;  // a reply that still comes for it is dropped
  ++health_.abandoned;
}

void Device::mark_lost(const std::string& why) {
  state_ = DeviceState::error;
  last_error_ = why;
}

void Device::detach() {
  deactivate();
  on_detach();
  observer_ = nullptr;
  clock_ = nullptr;
  signals_ = nullptr;
}

Status Device::add_measurement(SignalTable& t, const std::string& suffix, const std::string& unit, SignalId* id) {
  if (auto s = t.add(name_ + "." + suffix, unit, SignalKind::measurement, name_, id); !s) return s;
  published_.push_back(*id);
  return Status::ok();
}

Status Device::add_measurements(SignalTable& t, std::initializer_list<Measured> signals) {
  for (const Measured& m : signals)
    if (auto s = add_measurement(t, m.suffix, m.unit, m.id); !s) return s;
  return Status::ok();
}

Status Device::add_command(SignalTable& t, const std::string& suffix, const std::string& unit, SignalId* id,
                           Range range, double initial) {
  // The envelope applies 0 for a request it will not pass (non-finite, stale): 0 must be a value the
  // device accepts, and mean "off".
  if (!(range.lo <= 0 && 0 <= range.hi))
    return Status::error("command " + name_ + "." + suffix + ": its range must include the safe value 0");
  SignalId requested;
  if (auto s = t.add(name_ + "." + suffix, unit, SignalKind::command, name_, &requested, initial); !s) return s;
  if (auto s = t.add(name_ + "." + suffix + ".applied", unit, SignalKind::applied, name_, id, initial); !s) return s;
  t.link_applied(requested, *id);
  t.set_range(requested, range);
  t.set_range(*id, range);
  commands_.push_back(*id);
  return Status::ok();
}

Status Device::add_limit(SignalTable& t, const std::string& suffix, const std::string& unit, SignalId* id) {
  return t.add(name_ + "." + suffix, unit, SignalKind::limit, name_, id);
}

Status Device::add_stimulus(SignalTable& t, const std::string& suffix, const std::string& unit, SignalId* id,
                            double initial) {
  return t.add(name_ + "." + suffix, unit, SignalKind::stimulus, name_, id, initial);
}

}  // namespace zhil
