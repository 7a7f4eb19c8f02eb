#pragma once
// A CAN bus on another machine of the lab, through its socketcand server (linux-can socketcand,
// raw mode; or zhil's own server): an Asio TCP connection on the run's loop. Opening connects,
// reads "< hi >", asks "< open BUS >" and "< rawmode >"; frames then flow both ways. A lost
// connection is made again, at once and then with doubling backoff (state `reconnecting`); frames
// sent meanwhile are refused with an error, never queued for later (a stale command must not reach
// a pack after recovery). Malformed server lines are counted as errors and skipped.
#include <memory>

#include "devices/can/can_bus.hpp"

namespace zhil::can {

struct SocketcandEndpoint {
  std::string host = "127.0.0.1";
  int port = 29536;
  std::string bus = "can0";
  Duration backoff_min{std::chrono::milliseconds(200)};
  Duration backoff_max{std::chrono::seconds(5)};
};

class SocketcandBus final : public CanBus {
 public:
  explicit SocketcandBus(SocketcandEndpoint endpoint);
  ~SocketcandBus() override;
  std::string name() const override;
  Status open(Clock& clock) override;
  void close() override;
  Status send(const CanFrame& frame) override;
  BusState state() const override;
  // The last thing the server refused or the connection failed with ("" if none).
  const std::string& last_error() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace zhil::can
