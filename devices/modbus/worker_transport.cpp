#include "devices/modbus/worker_transport.hpp"

#include <modbus/modbus.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>

namespace zhil::modbus {

WorkerTransport::WorkerTransport(Endpoint endpoint, TransportTiming timing, std::shared_ptr<LockStep> lock_step)
    : Transport(std::move(endpoint), timing, std::move(lock_step)) {
  worker_ = std::thread([this] { worker_main(); });
}

WorkerTransport::~WorkerTransport() {
  alive_->store(false);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (socket_fd_ >= 0 && !endpoint().rtu) ::shutdown(socket_fd_, SHUT_RDWR);
  }
  wake_.notify_all();
  worker_.join();
}

void WorkerTransport::send(std::uint64_t id, int attempt, const Request& r, Clock& clock) {
  {
    std::lock_guard lock(mutex_);
    io_ = &clock.io();
    work_.push_back({id, {attempt, r}});
  }
  wake_.notify_all();
}

void WorkerTransport::release_loop() {
  {
    std::lock_guard lock(mutex_);
    io_ = nullptr;  // nothing more is posted to the run that goes
    work_.clear();
  }
  wake_.notify_all();
}

void WorkerTransport::interrupt() {
  // The reply is no longer wanted: shut the connection under the worker so that it stops waiting
  // and the next request starts on a fresh connection (a late reply cannot be mistaken for it).
  std::lock_guard lock(mutex_);
  work_.clear();
  reset_connection_ = true;
  if (socket_fd_ >= 0 && !endpoint().rtu) ::shutdown(socket_fd_, SHUT_RDWR);
}


bool WorkerTransport::connect_locked(Failure* failure, int* local_port) {
  auto* ctx = static_cast<modbus_t*>(ctx_);
  if (!ctx) {
    if (endpoint().rtu)
      ctx = modbus_new_rtu(endpoint().device.c_str(), endpoint().baud, endpoint().parity, endpoint().data_bits, endpoint().stop_bits);
    else
      ctx = modbus_new_tcp_pi(endpoint().host.c_str(), std::to_string(endpoint().port).c_str());
    if (!ctx) {
      *failure = classify_errno(errno);
      failure->kind = FailureKind::connection_lost;
      return false;
    }
    ctx_ = ctx;
  }
  // libmodbus's own timeout is a backstop: the clock's timer decides (see the file comment). RTU
  // cannot be shut down under the worker, so there it is the request's timeout itself.
  const auto backstop = endpoint().rtu ? timing().timeout : timing().timeout + std::chrono::seconds(2);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(backstop).count();
  modbus_set_response_timeout(ctx, static_cast<std::uint32_t>(us / 1000000), static_cast<std::uint32_t>(us % 1000000));
  if (modbus_connect(ctx) != 0) {
    *failure = classify_errno(errno);
    failure->kind = FailureKind::connection_lost;
    failure->detail = "cannot connect to " + endpoint().describe() + ": " + failure->detail;
    return false;
  }
  const int fd = modbus_get_socket(ctx);
  {
    auto alive = alive_;
    // Counted on the loop, where the counters live (if the run is still there).
    std::lock_guard lock(mutex_);
    if (io_)
      boost::asio::post(*io_, [this, alive] {
        if (alive->load()) connected();
      });
  }
  if (!endpoint().rtu) {
    sockaddr_storage a{};
    socklen_t n = sizeof a;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) == 0) {
      if (a.ss_family == AF_INET) *local_port = ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
      else if (a.ss_family == AF_INET6) *local_port = ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
    }
  }
  std::unique_lock lock(mutex_);
  socket_fd_ = fd;
  if (lock_stepped() && *local_port >= 0 && io_) {
    // The server must know this connection before it sees a request on it (it may defer its
    // answer, see LockStep): the loop attaches the port, and only then is the request sent. The
    // loop is waiting for this request (its hold is taken), so it runs the handler at once.
    port_acked_ = false;
    auto alive = alive_;
    const int port = *local_port;
    boost::asio::post(*io_, [this, alive, port] {
      if (!alive->load()) return;
      attach_port(port);
      {
        std::lock_guard l(mutex_);
        port_acked_ = true;
      }
      wake_.notify_all();
    });
    wake_.wait(lock, [&] { return port_acked_ || stopping_ || !io_; });
  }
  return true;
}

Result WorkerTransport::perform(const Request& r, int* local_port) {
  Result out;
  auto* ctx = static_cast<modbus_t*>(ctx_);
  bool connected = ctx && modbus_get_socket(ctx) >= 0;
  {
    std::lock_guard lock(mutex_);
    if (reset_connection_ && connected) {
      socket_fd_ = -1;
      modbus_close(ctx);
      connected = false;
    }
    reset_connection_ = false;
  }
  if (!connected) {
    if (!connect_locked(&out.failure, local_port)) return out;
    ctx = static_cast<modbus_t*>(ctx_);
  }
  modbus_set_slave(ctx, r.unit);
  int rc = -1;
  switch (r.function) {
    case Function::read_holding:
    case Function::read_input:
      out.registers.assign(static_cast<std::size_t>(r.count), 0);
      rc = r.function == Function::read_holding ? modbus_read_registers(ctx, r.address, r.count, out.registers.data())
                                                : modbus_read_input_registers(ctx, r.address, r.count, out.registers.data());
      if (rc >= 0 && rc != r.count) {
        out.failure.kind = FailureKind::bad_reply;
        out.failure.detail = "reply holds " + std::to_string(rc) + " registers, " + std::to_string(r.count) + " asked for";
        return out;
      }
      break;
    case Function::write_single: rc = modbus_write_register(ctx, r.address, r.values.at(0)); break;
    case Function::write_multiple:
      rc = modbus_write_registers(ctx, r.address, static_cast<int>(r.values.size()), r.values.data());
      break;
  }
  if (rc < 0) {
    const int err = errno;
    out.failure = classify_errno(err);
    out.registers.clear();
    // A connection that failed, or whose framing is lost, is not used again: the next request
    // reconnects (TCP) or starts after a flush (RTU).
    if (out.failure.kind != FailureKind::exception) {
      std::lock_guard lock(mutex_);
      socket_fd_ = -1;
      if (endpoint().rtu) modbus_flush(ctx);
      else modbus_close(ctx);
    }
  }
  return out;
}

void WorkerTransport::worker_main() {
  for (;;) {
    std::pair<std::uint64_t, std::pair<int, Request>> item;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !work_.empty(); });
      if (stopping_) break;
      item = std::move(work_.front());
      work_.pop_front();
    }
    WorkerReply reply;
    reply.id = item.first;
    reply.attempt = item.second.first;
    int local_port = -1;
    reply.result = perform(item.second.second, &local_port);
    auto alive = alive_;
    // Posted under the lock: release_loop() cannot let the run's io_context go in between.
    std::lock_guard lock(mutex_);
    if (io_)
      boost::asio::post(*io_, [this, alive, reply = std::move(reply)]() mutable {
        if (alive->load()) attempt_done(reply.id, reply.attempt, std::move(reply.result));
      });
  }
  if (auto* ctx = static_cast<modbus_t*>(ctx_)) {
    modbus_close(ctx);
    modbus_free(ctx);
  }
}

}  // namespace zhil::modbus
