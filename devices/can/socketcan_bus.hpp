#pragma once
// A CAN interface of this machine (Linux SocketCAN): an AF_CAN raw socket on the run's loop
// (Boost.Asio waits for it to be readable; reads and writes never block), with receive filters and
// error frames on, and the interface controlled through libsocketcan: bitrate (set while the
// interface is down), start / stop, state (error-active, warning, passive, bus-off, stopped), and
// restart after bus-off, tried at once and then with doubling backoff. A virtual interface (vcan)
// has no link data: asking its state or bitrate is a clear error naming the interface, and the bus
// still carries frames.
#include <memory>

#include "devices/can/can_bus.hpp"

namespace zhil::can {

struct SocketCanEndpoint {
  std::string interface = "can0";
  std::uint32_t bitrate = 0;  // 0: leave the interface as configured
  Duration restart_min{std::chrono::milliseconds(100)};
  Duration restart_max{std::chrono::seconds(5)};
};

// Interface control (libsocketcan). Each returns an error naming the interface and the call.
Status socketcan_set_bitrate(const std::string& interface, std::uint32_t bitrate);
Status socketcan_start(const std::string& interface);
Status socketcan_stop(const std::string& interface);
Status socketcan_restart(const std::string& interface);
Status socketcan_state(const std::string& interface, BusState* state);

class SocketCanBus final : public CanBus {
 public:
  explicit SocketCanBus(SocketCanEndpoint endpoint);
  ~SocketCanBus() override;
  std::string name() const override { return ep_.interface; }
  // Opens the raw socket and binds it to the interface; an error names the interface and the call
  // (no such interface; this kernel has no CAN: socket(AF_CAN) fails).
  Status open(Clock& clock) override;
  void close() override;
  Status send(const CanFrame& frame) override;
  BusState state() const override { return state_; }
  const std::string& last_error() const { return last_error_; }

 private:
  struct Impl;
  void on_readable();
  void handle_error_frame(std::uint32_t err_class);
  void schedule_restart();
  SocketCanEndpoint ep_;
  Clock* clock_ = nullptr;
  std::shared_ptr<Impl> impl_;
  BusState state_ = BusState::closed;
  Duration restart_wait_{0};
  std::uint64_t restart_timer_ = 0;
  std::string last_error_;
};

}  // namespace zhil::can
