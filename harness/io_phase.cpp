#include "harness/io_phase.hpp"

#include <algorithm>
#include <sstream>

namespace zhil {

const char* to_string(IoOutcome o) {
  switch (o) {
    case IoOutcome::idle: return "idle";
    case IoOutcome::pending: return "pending";
    case IoOutcome::ok: return "ok";
    case IoOutcome::failed: return "failed";
    case IoOutcome::late: return "late";
    case IoOutcome::busy: return "busy";
  }
  return "?";
}

IoPhase::IoPhase(Clock& clock, SignalTable& signals, std::vector<Device*> devices, std::vector<Duration> deadlines)
    : clock_(clock),
      signals_(signals),
      devices_(std::move(devices)),
      deadlines_(std::move(deadlines)),
      outcome_(devices_.size(), IoOutcome::idle),
      error_(devices_.size()) {}

std::size_t IoPhase::count(IoOutcome o) const {
  return static_cast<std::size_t>(std::count(outcome_.begin(), outcome_.end(), o));
}

void IoPhase::begin(std::size_t i) {
  Device& d = *devices_[i];
  bool started = false;
  switch (op_) {
    case DeviceOp::activate: started = d.start_activate(started_); break;
    case DeviceOp::read: started = d.start_read(started_); break;
    case DeviceOp::write: started = d.start_write(started_); break;
    case DeviceOp::safe_state: started = d.start_safe_state(); break;
    case DeviceOp::verify: started = d.start_verify_safe_state(); break;
    case DeviceOp::none: break;
  }
  if (!started && outcome_[i] == IoOutcome::pending) {
    // Refused for its state (never configured, not active): nothing to wait for.
    outcome_[i] = IoOutcome::failed;
    error_[i] = "device " + d.name() + ": " + to_string(op_) + " refused in state " + to_string(d.state());
    --pending_;
  }
}

void IoPhase::start(DeviceOp op, Time now, const std::vector<std::size_t>& subset, bool preempt,
                    std::function<void()> done) {
  // Bringing a device up, and putting it in its safe state, may take longer than a cycle's
  // exchange (connecting, a retry): those phases give every device at least this long.
  patient_ = op == DeviceOp::activate || op == DeviceOp::safe_state || op == DeviceOp::verify;
  op_ = op;
  started_ = now;
  done_ = std::move(done);
  running_ = true;
  starting_ = true;
  pending_ = 0;
  std::fill(outcome_.begin(), outcome_.end(), IoOutcome::idle);
  const std::size_t n = subset.empty() ? devices_.size() : subset.size();
  // Everyone is counted pending before anyone starts: a device that answers at once must not end
  // the phase while the rest are still to be started.
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = subset.empty() ? k : subset[k];
    error_[i].clear();
    if (devices_[i]->busy() && preempt) devices_[i]->abandon();  // the safe state does not wait
    if (devices_[i]->busy()) {
      outcome_[i] = IoOutcome::busy;
    } else {
      outcome_[i] = IoOutcome::pending;
      ++pending_;
    }
  }
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = subset.empty() ? k : subset[k];
    if (outcome_[i] == IoOutcome::pending) begin(i);  // may complete at once
  }
  starting_ = false;
  if (pending_ > 0) arm_deadline();
  finish_if_done();
}

bool IoPhase::device_done(std::size_t i, DeviceOp op, const Status& status) {
  if (!running_ || i >= outcome_.size()) return false;
  if (op != op_ || outcome_[i] != IoOutcome::pending) return false;
  if (status) {
    outcome_[i] = IoOutcome::ok;
    if (op == DeviceOp::read) {
      try {
        devices_[i]->publish(starting_ ? started_ : clock_.now(), signals_);
      } catch (const std::exception& e) {
        outcome_[i] = IoOutcome::failed;
        error_[i] = "device " + devices_[i]->name() + ": publishing its reading threw: " + e.what();
      }
    }
  } else {
    outcome_[i] = IoOutcome::failed;
    error_[i] = status.message();
  }
  --pending_;
  finish_if_done();
  return true;
}

void IoPhase::arm_deadline() {
  Time earliest = Time::max();
  for (std::size_t i = 0; i < outcome_.size(); ++i)
    if (outcome_[i] == IoOutcome::pending)
      earliest = std::min(earliest, started_ + deadline(i));
  if (earliest == Time::max()) return;
  if (deadline_timer_ != kNoTimer) clock_.cancel(deadline_timer_);
  deadline_timer_ = clock_.call_at(earliest, [this] {
    deadline_timer_ = kNoTimer;
    on_deadline();
  });
}

void IoPhase::on_deadline() {
  const Time now = clock_.now();
  for (std::size_t i = 0; i < outcome_.size(); ++i) {
    if (outcome_[i] == IoOutcome::pending && started_ + deadline(i) <= now) {
      std::ostringstream ms;
      ms << static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(deadline(i)).count()) / 1000.0;
      error_[i] = "device " + devices_[i]->name() + ": no answer to " + to_string(op_) + " within " + ms.str() + " ms";
      outcome_[i] = IoOutcome::late;
      --pending_;
      devices_[i]->abandon();
    }
  }
  if (pending_ > 0) arm_deadline();
  finish_if_done();
}

void IoPhase::finish_if_done() {
  if (starting_ || !running_ || pending_ > 0) return;
  running_ = false;
  if (deadline_timer_ != kNoTimer) clock_.cancel(deadline_timer_);
  deadline_timer_ = kNoTimer;
  if (done_) {
    // The handler may start the next phase on this object: hand it over first.
    auto done = std::move(done_);
    done_ = nullptr;
    done();
  }
}

}  // namespace zhil
