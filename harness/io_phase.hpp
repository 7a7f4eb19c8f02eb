#pragma once
// One asynchronous phase of a run: the same operation started on a set of devices at once, and
// their completions collected against each device's deadline. A device that ends within its
// deadline is `ok` or `failed`; one that has not ended by then is `late` and the phase stops
// waiting for it (and the device abandons it); one still busy with an earlier operation is `busy`
// (cycle phases) or has that operation abandoned and this one started (safe-state phases, which
// must reach every device). When every device has
// an outcome the phase calls its done handler, on the loop thread; when nothing had to wait, before
// start() returns and without a timer (the fast path of in-process devices). Activation and the
// safe state wait at least 2 s for a device, whatever its cycle deadline.
//
// Outcomes are kept per device, in station order, so the run acts on them (stale signals, events,
// faults) in the same order whatever order the replies came in.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "harness/clock.hpp"
#include "harness/device.hpp"
#include "harness/signal_table.hpp"

namespace zhil {

enum class IoOutcome : std::uint8_t { idle, pending, ok, failed, late, busy };
const char* to_string(IoOutcome o);

class IoPhase {
 public:
  IoPhase(Clock& clock, SignalTable& signals, std::vector<Device*> devices, std::vector<Duration> deadlines);

  // Starts `op` on the devices in `subset` (indices into the device list; all when empty).
  // `preempt`: a busy device's operation in flight is abandoned and this one started instead.
  void start(DeviceOp op, Time now, const std::vector<std::size_t>& subset, bool preempt,
             std::function<void()> done);
  bool running() const { return running_; }
  DeviceOp op() const { return op_; }
  Time started_at() const { return started_; }

  // From the run's observer: device `index` ended `op`. Returns false if this phase was not waiting
  // for it (a reply after its deadline, or to an earlier phase): the caller drops it.
  bool device_done(std::size_t index, DeviceOp op, const Status& status);

  IoOutcome outcome(std::size_t index) const { return outcome_[index]; }
  const std::string& error(std::size_t index) const { return error_[index]; }
  std::size_t count(IoOutcome o) const;

 private:
  void arm_deadline();
  void on_deadline();
  void finish_if_done();
  void begin(std::size_t index);
  Duration deadline(std::size_t i) const {
    return patient_ ? std::max<Duration>(deadlines_[i], kPatience) : deadlines_[i];
  }
  static constexpr Duration kPatience = std::chrono::seconds(2);

  Clock& clock_;
  SignalTable& signals_;
  std::vector<Device*> devices_;
  std::vector<Duration> deadlines_;
  std::vector<IoOutcome> outcome_;
  std::vector<std::string> error_;
  DeviceOp op_ = DeviceOp::none;
  Time started_{0};
  std::size_t pending_ = 0;
  bool running_ = false;
  bool starting_ = false;
  bool patient_ = false;
  TimerId deadline_timer_ = kNoTimer;
  std::function<void()> done_;
};

}  // namespace zhil
