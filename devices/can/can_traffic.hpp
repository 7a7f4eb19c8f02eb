#pragma once
// Every frame a run's CAN buses carry, for the bus logs (can_log_sink.hpp): virtual buses report
// each frame once, when it goes on the bus (after injected faults: what a sniffer would see);
// SocketCAN and socketcand buses report what they send and receive. Nothing is kept unless a log
// is open. One run per process logs at a time (the loop thread calls in; no locking needed).
#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "devices/can/can_frame.hpp"

namespace zhil::can {

class CanTraffic {
 public:
  using Listener = std::function<void(const std::string& bus, const CanFrame& f, Time at)>;
  static CanTraffic& instance();
  // Returns a token; clear_listener(token) clears only that listener (a newer one stays).
  int set_listener(Listener l) {
    listener_ = std::move(l);
    return ++token_;
  }
  void clear_listener(int token) {
    if (token == token_) listener_ = nullptr;
  }
  // A virtual bus's hub: each frame once.
  void record(const std::string& bus, const CanFrame& f, Time at) {
    if (listener_) listener_(bus, f, at);
  }
  // A kernel or socketcand bus seen by several endpoints of this process (a simulator and its
  // driver on vcan0, a gateway and the driver inside it): what one sends, the others receive. So a
  // frame is logged when sent, and a received frame only by the bus's first endpoint and only if no
  // endpoint here sent it (it is then already in the log).
  void attach(const std::string& bus, const void* endpoint);
  void detach(const std::string& bus, const void* endpoint);
  void record_tx(const std::string& bus, const CanFrame& f, Time at);
  void record_rx(const std::string& bus, const CanFrame& f, Time at, const void* endpoint);

 private:
  struct BusSeen {
    std::vector<const void*> endpoints;
    std::vector<CanFrame> sent;  // sent here, not yet seen coming back (bounded)
  };
  Listener listener_;
  int token_ = 0;
  std::map<std::string, BusSeen> buses_;
};

}  // namespace zhil::can
