#pragma once
// Every frame a run's CAN buses carry, for the bus logs (can_log_sink.hpp): virtual buses report
// each frame once, when it goes on the bus (after injected faults: what a sniffer would see);
// SocketCAN and socketcand buses report what they send and receive. Nothing is kept unless a log
// is open. One run per process logs at a time (the loop thread calls in; no locking needed).
#include <functional>
#include <string>

#include "devices/can/can_frame.hpp"

namespace zhil::can {

class CanTraffic {
 public:
  using Listener = std::function<void(const std::string& bus, const CanFrame& f, Time at)>;
  static CanTraffic& instance();
  void set_listener(Listener l) { listener_ = std::move(l); }
  void clear_listener() { listener_ = nullptr; }
  void record(const std::string& bus, const CanFrame& f, Time at) {
    if (listener_) listener_(bus, f, at);
  }

 private:
  Listener listener_;
};

}  // namespace zhil::can
