#pragma once
// A device reached in-process (link type in-process): each operation is a plain function call on
// the loop thread, answered at once or, when the link sets a latency, that long after the request
// by a timer on the run's clock, in simulated and in real time alike. The latency is what lets the
// asynchronous cycle be exercised and measured with no protocol at all (64 devices that each take
// 10 ms, say). Values are taken when the answer is given: a read samples the device at the reply's
// time, a write takes effect at it.
#include "harness/device.hpp"

namespace zhil {

class InProcessDevice : public Device {
 public:
  InProcessDevice(std::string name, std::string role, Duration latency)
      : Device(std::move(name), std::move(role)), latency_(latency) {}
  Duration latency() const { return latency_; }
  // A link that slows down while the run goes (a congested bus): fault injection. A station cannot
  // ask for a latency at or above the device's deadline (every read would be late), but a link can
  // become that slow.
  void set_latency(Duration latency) { latency_ = latency; }
  // Its state between cycles is its latency (a fault may have changed it) and what the device
  // built on it adds (its model lives in the plant, which is saved on its own).
  bool checkpointable() const override { return true; }
  void save_state(StateWriter& a) const override;
  void load_state(StateReader& a) override;

 protected:
  // What a device built on this one keeps besides its model (both ways, one function).
  virtual void state_more(StateWriter&) {}
  virtual void state_more(StateReader&) {}

  // The synchronous hooks devices implement.
  virtual Status activate_now(Time) { return Status::ok(); }
  virtual Status read_now(Time) { return Status::ok(); }  // then on_publish() copies the values
  virtual Status write_now(Time now, const SignalTable& signals) = 0;
  virtual Status safe_state_now() = 0;
  virtual SafeStateReport verify_now() = 0;
  // Every operation that reaches the device, before its hook: the device heard from the host.
  virtual void host_contact(Time) {}

  void on_activate(Time now) final;
  void on_read(Time now) final;
  void on_write(Time now, const SignalTable& signals) final;
  void on_safe_state() final;
  void on_verify_safe_state() final;
  void on_deactivate() override;
  void on_abandon() override { on_deactivate(); }  // the reply is not coming: drop its timer

 private:
  void answer(Time now);  // runs the operation in flight, now or after the latency
  void run_op(Time now);

  Duration latency_;
  TimerId reply_ = kNoTimer;
};

}  // namespace zhil
