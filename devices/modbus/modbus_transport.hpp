#pragma once
// One Modbus link (a TCP connection, or an RTU serial line with its units), on the run's
// asynchronous loop: what every transport shares (one request at a time per link, as a Modbus line
// works; timeouts; retries; reconnecting with backoff; failures classified and counted). Two
// implementations, for two reasons:
//   - TcpTransport: the socket is an Asio socket on the loop, and the MBAP framing is done here.
//     libmodbus's TCP client can only block (its framing is not callable apart from its I/O), and
//     a worker thread per connection costs two thread switches per request: measured here, 18
//     simulated devices ran at 21x real time with a libmodbus worker each, against what the
//     loop does with no switch at all (see the note of the Modbus issue for the figures).
//   - WorkerTransport: libmodbus on a worker thread that owns its modbus_t (RTU: CRC, timing on a
//     serial line, which Asio does not give; and TCP for comparison). The loop posts requests to
//     it and the worker posts each result back to the loop's io_context (Boost.Asio post).
//
// The timeout of a request is a timer on the run's clock, not libmodbus's: in simulated time a
// request to a simulator that does not answer times out at the same simulated instant on every run.
// When it fires the request is failed as a timeout and the connection is shut down under the worker
// (a late reply must never be taken for the answer to the next request); the next request connects
// again. Timeouts and damaged or wrong replies are retried a bounded number of times. After a lost
// connection the link reconnects at once, and if that fails waits, doubling its wait from
// backoff_min to backoff_max (in the clock's time); requests made while it waits fail at once
// without touching the wire.
//
// In simulated time a request holds the clock (IoHold) until its result is back on the loop, so a
// simulator behind a loopback socket answers at the same simulated instant as in-process. A
// simulator that means to answer later (a response-delay fault) or never releases that hold through
// LockStep and takes it again when it answers.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "devices/modbus/modbus_failure.hpp"
#include "harness/clock.hpp"

namespace boost::asio {
class io_context;
}

namespace zhil::modbus {

struct Endpoint {
  bool rtu = false;
  std::string host = "127.0.0.1";  // tcp
  int port = 502;
  std::string device;  // rtu: /dev/ttyUSB0
  int baud = 19200;
  char parity = 'N';
  int data_bits = 8;
  int stop_bits = 1;
  // tcp: libmodbus's own client on a worker (link `client: libmodbus`) instead of the loop's Asio
  // client, for a device that only ever worked with libmodbus; RTU always uses libmodbus.
  bool libmodbus_client = false;
  std::string describe() const;  // "127.0.0.1:5020" or "/dev/ttyUSB0 19200 8N1"
};

struct TransportTiming {
  Duration timeout{std::chrono::milliseconds(500)};
  int retries = 1;  // further attempts after a timeout or a damaged reply
  Duration backoff_min{std::chrono::milliseconds(200)};
  Duration backoff_max{std::chrono::seconds(5)};
};

enum class Function : std::uint8_t { read_holding = 3, read_input = 4, write_single = 6, write_multiple = 16 };
const char* to_string(Function f);

struct Request {
  Function function = Function::read_holding;
  int unit = 1;
  int address = 0;
  int count = 1;
  std::vector<std::uint16_t> values;  // writes
  std::string describe() const;       // "FC03 unit 1 40070+24"
};

struct Result {
  Failure failure;
  int attempts = 0;
  std::vector<std::uint16_t> registers;  // reads
  bool ok() const { return failure.kind == FailureKind::none; }
};

class Transport;

// Couples an in-process server to the transports that reach it, so that in simulated time a server
// that defers its answer lets time pass (see the file comment). Keyed by the client's local port,
// which the server sees as the peer's.
class LockStep {
 public:
  // Server side, on the loop thread: the request from peer `port` will be answered later (or never):
  // simulated time may pass. Later, when the answer is sent: time stands still again until the
  // client has it. False if no transport of this process is waiting on that port.
  bool defer(int port);
  bool resume(int port);
  void attach(int port, Transport* t);
  void detach(int port, Transport* t);

 private:
  std::map<int, Transport*> clients_;
};

class Transport {
 public:
  using Done = std::function<void(const Result&)>;
  Transport(Endpoint endpoint, TransportTiming timing, std::shared_ptr<LockStep> lock_step = nullptr);
  virtual ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }
  const TransportTiming& timing() const { return timing_; }
  // Starts a request on the loop thread; `done` runs on the loop thread with its result (possibly
  // before submit returns, for a request refused at once). One request at a time per link: a
  // request made while another is in flight waits its turn.
  void submit(Clock& clock, Request request, Done done);
  // Drops every waiting request and ignores the one in flight (its result will not be delivered);
  // the connection is shut down. For a run that stops waiting on the device.
  void cancel_all();
  // The run is over: drop everything (cancel_all) and never touch its loop again (its io_context
  // goes with it; a worker still inside a blocking call must not post to it afterwards).
  virtual void release_loop() {}
  void detach() {
    cancel_all();
    release_loop();
  }
  bool idle() const { return !current_ && queue_.empty(); }

  // Counters, by kind, since the link was made.
  std::uint64_t requests() const { return requests_; }
  std::uint64_t failures(FailureKind k) const { return failures_[static_cast<int>(k)]; }
  std::uint64_t failures() const {
    std::uint64_t n = 0;
    for (std::uint64_t f : failures_) n += f;
    return n;
  }
  // Connections made after the first (after a drop, a timeout, a restart of the device).
  std::uint64_t reconnects() const { return connections_ > 0 ? connections_ - 1 : 0; }

  // LockStep's side (loop thread).
  void release_hold_for_server();
  void retake_hold_for_server();

 protected:
  // The implementation's part: send attempt `attempt` of request `id` and report its end with
  // attempt_done() on the loop thread (the clock's io_context); and stop waiting for the attempt
  // in flight (shut its connection) when the transport gives up on it.
  virtual void send(std::uint64_t id, int attempt, const Request& r, Clock& clock) = 0;
  virtual void interrupt() = 0;
  void attempt_done(std::uint64_t id, int attempt, Result result);
  // The connection's local port, for a server of this process that defers its answers (LockStep).
  void attach_port(int port);
  void connected() { ++connections_; }
  bool lock_stepped() const { return lock_step_ != nullptr; }
  // Alive until the derived object starts to go: handlers posted earlier check it.
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);

 private:
  struct Job {
    std::uint64_t id = 0;
    Request request;
    Done done;
    Clock* clock = nullptr;
    int attempts = 0;
  };
  void start_next();
  void start_attempt();
  void on_timeout(std::uint64_t id, int attempt);
  void finish(Result result);

  Endpoint endpoint_;
  TransportTiming timing_;
  std::shared_ptr<LockStep> lock_step_;
  std::deque<Job> queue_;
  std::unique_ptr<Job> current_;
  IoHold hold_;
  TimerId timeout_timer_ = kNoTimer;
  std::uint64_t next_id_ = 1;
  Time reconnect_at_{-1};  // while lost: no attempt before this
  Duration backoff_{0};
  bool lost_ = false;
  int attached_port_ = -1;
  std::uint64_t requests_ = 0;
  std::uint64_t connections_ = 0;
  std::uint64_t failures_[8] = {};
};

// Makes the transport a link's endpoint calls for: TCP on the loop (TcpTransport), RTU on a
// libmodbus worker (WorkerTransport).
std::shared_ptr<Transport> make_transport(const Endpoint& endpoint, const TransportTiming& timing,
                                          std::shared_ptr<LockStep> lock_step = nullptr);

}  // namespace zhil::modbus
