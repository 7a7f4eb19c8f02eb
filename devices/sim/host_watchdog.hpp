#pragma once
// The device-side communication timeout of a simulated pack (BMS) or inverter, as real ones have
// (a SunSpec or BMS communication timeout, a CAN inverter that drops a battery that falls silent):
// armed when the harness activates the device, fed by every request that reaches it, and checked
// as the plant's time advances, whether or not the harness still calls. When it expires the model
// goes to its own safe state. That is what protects the hardware when the harness itself dies;
// the simulators behind Modbus and CAN (later issues) keep it, so a killed harness is tested as on
// a bench.
#include "harness/time.hpp"

namespace zhil::sim {

class HostWatchdog {
 public:
  void arm(Duration timeout, Time now) {
    timeout_ = timeout;
    last_ = now;
    expired_ = false;
  }
  void disarm() { timeout_ = Duration{0}; }
  void contact(Time now) {
    if (now > last_) last_ = now;
  }
  Duration timeout() const { return timeout_; }
  bool expired() const { return expired_; }
  // True once, at the first time `now` is past the timeout since the last contact.
  bool expires_at(Time now) {
    if (timeout_ <= Duration{0} || expired_ || now - last_ <= timeout_) return false;
    expired_ = true;
    return true;
  }

  // A checkpoint's part (harness/checkpoint/state_archive.hpp).
  template <class Archive>
  void state(Archive& a) {
    a(timeout_, last_, expired_);
  }

 private:
  Duration timeout_{0};
  Time last_{0};
  bool expired_ = false;
};

}  // namespace zhil::sim
