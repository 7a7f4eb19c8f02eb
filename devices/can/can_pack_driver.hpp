#pragma once
// A pack (BMS) on CAN, driven by its CAN map (can_map.hpp) and DBC file: no frame layout here.
//   activate: opens the bus and waits for one frame of every required message (a silent pack is
//             an error naming what did not come within the message's timeout); reads identity.
//   read:     frames arrive on their own; a read ends at once, in error if a required message has
//             not come within its timeout (its signals turn stale, then fault: a lost device) or a
//             frame decoded out of its DBC range or a heartbeat froze since the last read.
//   write:    the command frames, encoded from the commands and limits the envelope applied;
//             a value the frame cannot carry is refused (counted), never wrapped.
//   safe:     the command frames with every `safe` value; verified from fresh frames that show the
//             `safe_when` readings (contactor open, no current).
// The BMS's own command timeout (the command message's GenMsgTimeout) is the device-side watchdog.
#include <map>
#include <memory>

#include "devices/can/can_bus.hpp"
#include "devices/can/can_map.hpp"
#include "harness/device.hpp"

namespace zhil::can {

// Simulated time holds its clock only for buses in this process: a kernel or TCP bus needs real time.
Status bus_needs_real_time(const CanBus& bus, const Clock& clock);

class CanPackDriver : public Device {
 public:
  CanPackDriver(std::string name, std::string role, std::shared_ptr<const CanMap> map, std::shared_ptr<CanBus> bus);
  ~CanPackDriver() override;
  // What the pack's identity frames say (serial, firmware, manufacturer), as last received.
  std::string identity() const override;
  Duration watchdog_armed() const override { return watchdog_; }
  std::vector<std::pair<std::string, std::uint64_t>> io_counts() const override;
  CanBus& bus() { return *bus_; }
  const CanMap& map() const { return *map_; }

 protected:
  Status on_configure(DeviceContext& c) override;
  void on_activate(Time now) override;
  void on_read(Time now) override;
  void on_write(Time now, const SignalTable& t) override;
  void on_safe_state() override;
  void on_verify_safe_state() override;
  void on_publish(Time stamp, SignalTable& t) override;
  void on_abandon() override;
  void on_deactivate() override;
  void on_detach() override;

 private:
  struct Bound {
    std::size_t entry = 0;
    SignalId id = kNoSignal;
  };
  void on_frame(const CanFrame& f, Time at);
  Status send_commands(const std::vector<double>& values, bool safe);
  Status stale_messages(Time now) const;
  std::string missing_messages() const;  // required messages not received yet, by name

  std::shared_ptr<const CanMap> map_;
  std::shared_ptr<CanBus> bus_;
  std::vector<Bound> reads_, writes_, limits_;
  std::vector<double> values_;                // per entry, last decoded
  std::map<const DbcMessage*, Time> last_rx_;  // per read message
  std::map<std::size_t, std::pair<double, Time>> heartbeats_;  // per heartbeat entry: value, since
  std::string pending_error_;                  // a frame that failed to decode since the last read
  std::map<std::size_t, std::string> texts_;  // identity text entries, as received
  OpToken activation_token_ = 0;
  Duration watchdog_{0};
  std::uint64_t counter_ = 0;
  TimerId activation_timer_ = kNoTimer, verify_timer_ = kNoTimer;
  Time verify_from_{0};
  bool open_ = false;
  std::uint64_t timeouts_ = 0, decode_errors_ = 0, encode_errors_ = 0, frozen_ = 0, unknown_ = 0;
};

}  // namespace zhil::can
