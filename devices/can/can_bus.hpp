#pragma once
// One CAN bus as zhil's drivers and simulators see it, whatever carries it (SocketCAN, a
// socketcand server on another machine, a virtual bus in this process). Like a raw CAN socket: open
// it on the run's clock, send frames, get every frame received (other nodes' frames, not your own)
// through one handler on the loop thread; filters choose what is delivered. Errors are returned,
// never hidden, and counted.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "devices/can/can_frame.hpp"
#include "harness/status.hpp"
#include "harness/time.hpp"

namespace zhil {
class Clock;
}

namespace zhil::can {

class CanTraffic;

// A receive filter, as SocketCAN's: a frame passes when (frame id & mask) == (id & mask), with the
// extended flag matched too. No filter: everything passes.
struct CanFilter {
  std::uint32_t id = 0;
  std::uint32_t mask = 0;
  bool extended = false;
  bool passes(const CanFrame& f) const { return f.extended == extended && (f.id & mask) == (id & mask); }
};

// What a bus has been through, recorded per bus in the run's record.
struct BusCounters {
  std::uint64_t tx = 0, rx = 0;
  std::uint64_t errors = 0;         // error frames, malformed input from the transport
  std::uint64_t dropped = 0;        // frames lost (a full queue, a slow client)
  std::uint64_t bus_off = 0;        // times the controller went bus-off
  std::uint64_t restarts = 0;       // recoveries after bus-off or a lost connection
};

enum class BusState : std::uint8_t { closed, active, warning, passive, bus_off, reconnecting };
const char* to_string(BusState s);

class CanBus {
 public:
  using Receiver = std::function<void(const CanFrame&, Time)>;
  virtual ~CanBus() = default;

  // "can0", "vcan0@vm", "lab-pc:29536/can1": for messages and the record.
  virtual std::string name() const = 0;
  // Starts delivering on the clock's loop. Opening again after close() is allowed.
  virtual Status open(Clock& clock) = 0;
  virtual void close() = 0;
  // Queues a frame for transmission (never blocks the loop). An error: the bus is closed or off,
  // the transport refused it.
  virtual Status send(const CanFrame& frame) = 0;
  void set_receiver(Receiver r) { receiver_ = std::move(r); }
  void set_filters(std::vector<CanFilter> filters) { filters_ = std::move(filters); }
  virtual BusState state() const = 0;
  // Whether the run's bus logs get this bus's frames (link `log: false` turns them off).
  virtual void set_logged(bool on) { logs_own_traffic_ = on; }
  virtual bool logged() const { return logs_own_traffic_; }
  const BusCounters& counters() const { return counters_; }
  // The bus logs this bus reports to: its bench's (make_bus sets it), so that two runs in one
  // process (Python) log apart; a bus nobody set reports to the process's (standalone tools).
  void set_traffic(std::shared_ptr<CanTraffic> traffic) { traffic_ = std::move(traffic); }

 protected:
  // Delivers a received frame through the filters (on the loop thread).
  void deliver(const CanFrame& f, Time at) {
    ++counters_.rx;
    if (logs_own_traffic_) log_rx(f, at);
    if (!filters_.empty()) {
      bool pass = false;
      for (const CanFilter& x : filters_) pass = pass || x.passes(f);
      if (!pass) return;
    }
    if (receiver_) receiver_(f, at);
  }
  // Tells the bus logs (can_traffic.hpp); a virtual bus logs at its hub instead, once per frame.
  void log_tx(const CanFrame& f, Time at);
  void log_rx(const CanFrame& f, Time at);
  void log_attach();
  void log_detach();
  bool logs_own_traffic_ = true;
  std::shared_ptr<CanTraffic> traffic_;
  BusCounters counters_;
  Receiver receiver_;
  std::vector<CanFilter> filters_;
};

}  // namespace zhil::can
