#pragma once
// A simulated pack on a CAN bus (a station's `link: {type: can-virtual}` on a pack-simulator, or
// socketcan / socketcand to put the simulator on a real or remote bus): the simulator is a node of
// its own on the bus (CanPackSimulator, sending the map's frames at their cycle times), and the
// run reaches it with the same CAN driver a real pack gets (CanPackDriver), through the bus. This
// device is that driver, plus what a simulator has that hardware has not: its stimuli (ambient,
// faults) and the bus faults the scenario injects on a virtual bus:
//   fault.can_drop (id)      never delivered        fault.can_freeze (id)   its last data repeated
//   fault.can_delay (id, s)  delivered that late     fault.can_bus_off       nothing passes
//   fault.can_corrupt (id)   data bytes inverted    fault.can_babble        a node floods id 0x000
//   fault.comm_loss          the BMS falls silent
// With `serve: PORT` the virtual bus is also served over socketcand on 127.0.0.1, for external
// tools to sniff and inject.
#include <memory>

#include "devices/can/can_pack_driver.hpp"
#include "devices/can/can_pack_simulator.hpp"
#include "devices/can/socketcand_server.hpp"
#include "harness/device_decorator.hpp"

namespace zhil::can {

class SimulatedCanDevice final : public DeviceDecorator {
 public:
  SimulatedCanDevice(std::unique_ptr<CanPackDriver> driver, std::unique_ptr<CanPackSimulator> node,
                     std::unique_ptr<SocketcandServer> server);
  ~SimulatedCanDevice() override;
  std::vector<std::pair<std::string, std::uint64_t>> io_counts() const override;
  Duration safe_state_time() const override { return node_->simulator().safe_state_time(); }
  Duration watchdog_armed() const override { return node_->simulator().watchdog_armed(); }
  CanPackSimulator& node() { return *node_; }
  CanPackDriver& driver() { return static_cast<CanPackDriver&>(inner()); }

 protected:
  Status on_configure(DeviceContext& c) override;
  void on_activate(Time now) override;
  void on_stimuli(Time now, const SignalTable& t) override;
  void on_deactivate() override;
  void on_detach() override;

 private:
  void apply_bus_faults(const SignalTable& t);
  std::unique_ptr<CanPackSimulator> node_;
  std::unique_ptr<SocketcandServer> server_;
  std::vector<std::pair<std::string, SignalId>> sim_stimuli_;
  SignalId drop_ = kNoSignal, delay_id_ = kNoSignal, delay_s_ = kNoSignal, corrupt_ = kNoSignal, freeze_ = kNoSignal,
           bus_off_ = kNoSignal, babble_ = kNoSignal;
  bool serving_ = false;
};

}  // namespace zhil::can
