#pragma once
// The simulated pack as a node on a CAN bus, by the same CAN map and DBC file a driver reads it
// with: its in-process device (SimulatedPackDevice) runs against a private signal table; each
// message the map reads is sent at its DBC cycle time on the run's clock (a multiplexed message
// once per multiplexer value: every module each cycle), encoded from the model; command frames it
// receives are decoded into its commands. A value a frame cannot carry (860 V in a low-voltage
// frame) is never wrapped: the signal is sent as its invalid value if the DBC has one, else the
// frame is not sent; either way it is counted. Counter fields count frames; text fields carry the
// manufacturer name.
#include <map>
#include <memory>

#include "devices/can/can_bus.hpp"
#include "devices/can/can_map.hpp"
#include "harness/device.hpp"

namespace zhil::can {

class CanPackSimulator final : private DeviceObserver {
 public:
  CanPackSimulator(std::shared_ptr<const CanMap> map, std::unique_ptr<Device> simulator, std::shared_ptr<CanBus> bus,
                   std::string manufacturer = "ZHIL", std::string serial = "");
  ~CanPackSimulator() override;
  Status configure(Clock& clock, Duration watchdog);
  // Powers the simulator up and starts sending (the bus opens here).
  Status activate(Time now);
  void deactivate();
  void detach();
  std::vector<std::pair<std::string, std::string>> stimuli() const;  // (suffix, unit)
  void set_stimulus(const std::string& suffix, double value);
  double stimulus(const std::string& suffix) const;
  void apply_stimuli(Time now);
  Device& simulator() { return *sim_; }
  CanBus& bus() { return *bus_; }
  // Frames not sent, or signals sent invalid, because a value did not fit its frame.
  std::uint64_t encode_errors() const { return encode_errors_; }
  std::uint64_t commands_received() const { return commands_; }

 private:
  void device_done(Device&, DeviceOp, const Status& s) override { last_ok_ = s.is_ok(); }
  void send_cycle(const DbcMessage* m);
  void on_frame(const CanFrame& f, Time at);
  void refresh(Time now);
  void keep_itself_on(Time now);

  std::shared_ptr<const CanMap> map_;
  std::unique_ptr<Device> sim_;
  std::shared_ptr<CanBus> bus_;
  std::string manufacturer_;
  double serial_number_ = 0;  // the digits of the serial ("ZH-BENCH-0001" -> 1); NaN if none
  SignalTable table_;
  Clock* clock_ = nullptr;
  bool last_ok_ = false;
  bool open_ = false;
  std::vector<SignalId> signal_of_;  // per map entry, its signal in table_ (kNoSignal: none)
  std::vector<std::pair<std::string, SignalId>> stimuli_;
  std::map<const DbcMessage*, TimerId> timers_;
  std::map<std::size_t, std::uint64_t> counters_;  // per counter/heartbeat entry
  Time refreshed_{-1};
  std::uint64_t encode_errors_ = 0, commands_ = 0;
};

}  // namespace zhil::can
