#pragma once
// zhil between a pack's CAN bus and its inverter's (model can-gateway, role pack): a real BMS's
// limits cannot be lowered, so the bench enforces its own envelope on the bus. Frames from the pack
// are forwarded to the inverter's bus; a reading the CAN map marks `clamp_to: <limit>` is rewritten
// on the way to at most the limit the safety envelope sets (0x351's charge and discharge current
// limits to i_charge_allowed / i_discharge_allowed), and to 0 before the first limits and in its safe
// state (the inverter is given no current to draw: on these frames that is the only way zhil has to
// stop a pack, which has no contactor command; the envelope sets the limits to 0 for a pack out of
// its window or lost). Frames from the inverter's bus are
// forwarded to the pack only if the map lists their message as a command; any other is dropped.
// Every rewrite and drop is counted (devices[].io), and both buses are in the run's CAN logs. The
// pack's own frames are decoded into the pack's signals as by the CAN pack driver (the inner device).
#include <map>
#include <memory>

#include "devices/can/can_pack_driver.hpp"
#include "harness/device_decorator.hpp"

namespace zhil::can {

class CanGateway final : public DeviceDecorator {
 public:
  CanGateway(std::unique_ptr<CanPackDriver> driver, std::shared_ptr<const CanMap> map, std::shared_ptr<CanBus> pack_side,
             std::shared_ptr<CanBus> inverter_side);
  ~CanGateway() override;
  std::vector<std::pair<std::string, std::uint64_t>> io_counts() const override;

 protected:
  Status on_configure(DeviceContext& c) override;
  void on_activate(Time now) override;
  void on_write(Time now, const SignalTable& t) override;
  void on_safe_state() override;
  // Verified from what the gateway itself sent: a clamped frame forwarded since the safe state was
  // commanded, carrying 0 in every clamped field (the pack's own current is the inverter's to stop).
  void on_verify_safe_state() override;
  void on_detach() override;

 private:
  void from_pack(const CanFrame& f);
  void from_inverter(const CanFrame& f);
  std::shared_ptr<const CanMap> map_;
  std::shared_ptr<CanBus> pack_side_, inverter_side_;
  std::map<std::string, SignalId> limits_;   // clamp_to name -> its limit signal
  std::map<std::string, double> allowed_;    // clamp_to name -> what the envelope allows now
  bool pass_ = false;                        // limits received from the envelope, not in the safe state
  bool open_ = false;
  bool safe_ = false;
  int zero_frames_since_safe_ = 0;
  TimerId verify_timer_ = kNoTimer;
  std::uint64_t forwarded_ = 0, rewritten_ = 0, dropped_ = 0, refused_ = 0;
};

}  // namespace zhil::can
