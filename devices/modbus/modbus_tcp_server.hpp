#pragma once
// A Modbus TCP server on the run's io_context (Boost.Asio: one acceptor, a connection object per
// client with its own buffers, no thread per connection), several clients at once. Requests are
// framed by their MBAP header here; the reply is built and sent by libmodbus (modbus_reply /
// modbus_reply_exception on a context bound to the connection's socket), so the bytes on the wire
// are libmodbus's, as on a libmodbus device. Before libmodbus answers, the backend is asked whether
// the request is legal: an address the device does not have is exception 02, a value it does not
// accept 03, a write to a read-only register 02.
//
// Protocol faults, for the scenario timeline: a response delay, no reply, an exception code for
// every request, frozen registers (well-formed but stale), corrupted values, a dropped connection
// and a server restart (it stops listening for a while). In simulated time delays run on the
// run's clock and the server tells the transports of this process through LockStep when it
// answers later or not at all, so a fault scenario is as repeatable as any other.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "devices/modbus/modbus_transport.hpp"
#include "devices/modbus/register_backend.hpp"
#include "devices/modbus/request_checks.hpp"
#include "harness/clock.hpp"

namespace boost::asio {
class io_context;
}

namespace zhil::modbus {

struct ServerFaults {
  Duration delay{0};
  bool no_reply = false;
  int exception = 0;  // answer every request with this exception code
  bool freeze = false;
  bool corrupt = false;
};

struct ServerCounters {
  std::uint64_t requests = 0, exceptions = 0, dropped = 0, connections = 0, malformed = 0;
};

class ModbusTcpServer {
 public:
  // An in-line proxy's way of answering: the request (unit and parsed PDU) is passed on, and the
  // reply comes back later (registers for a read; a failure: an exception from the device is passed
  // on as it is, any other failure answered with exception 0B, gateway target failed to respond).
  using Forward = std::function<void(int unit, const PduSummary& request, std::function<void(const Result&)> reply)>;

  // Binds 127.0.0.1:port (0: a free port) at once, so that its port is known before the run; it
  // accepts once start() has given it a loop.
  ModbusTcpServer(RegisterBackend& backend, const std::string& address = "127.0.0.1", int port = 0,
                  std::shared_ptr<LockStep> lock_step = nullptr);
  // A proxy: every request is forwarded (the faults apply on the way).
  ModbusTcpServer(Forward forward, const std::string& address = "127.0.0.1", int port = 0);
  ~ModbusTcpServer();
  ModbusTcpServer(const ModbusTcpServer&) = delete;
  ModbusTcpServer& operator=(const ModbusTcpServer&) = delete;

  int port() const { return port_; }
  const std::string& address() const { return address_; }
  // Serves on the clock's io_context, with its timers for delays and restarts.
  void start(Clock& clock);
  // Closes every connection and the listener (the run is over); start() may serve again.
  void stop();

  void set_faults(const ServerFaults& f) { faults_ = f; }
  const ServerFaults& faults() const { return faults_; }
  void drop_connections();
  // Stops listening and drops every client; listens again on the same port after `downtime`.
  void restart(Duration downtime);
  const ServerCounters& counters() const { return counters_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  RegisterBackend* backend_ = nullptr;
  Forward forward_;
  std::string address_;
  int port_ = 0;
  ServerFaults faults_;
  ServerCounters counters_;
};

}  // namespace zhil::modbus
