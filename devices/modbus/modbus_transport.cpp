#include "devices/modbus/modbus_transport.hpp"

#include <modbus/modbus.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdio>

namespace zhil::modbus {

std::string Endpoint::describe() const {
  if (!rtu) return host + ":" + std::to_string(port);
  char b[64];
  std::snprintf(b, sizeof b, " %d %d%c%d", baud, data_bits, parity, stop_bits);
  return device + b;
}

const char* to_string(Function f) {
  switch (f) {
    case Function::read_holding: return "FC03";
    case Function::read_input: return "FC04";
    case Function::write_single: return "FC06";
    case Function::write_multiple: return "FC16";
  }
  return "FC??";
}

std::string Request::describe() const {
  return std::string(to_string(function)) + " unit " + std::to_string(unit) + " register " + std::to_string(address) +
         (count > 1 ? "+" + std::to_string(count) : "");
}

// ---- LockStep

void LockStep::attach(int port, Transport* t) { clients_[port] = t; }
void LockStep::detach(int port, Transport* t) {
  auto it = clients_.find(port);
  if (it != clients_.end() && it->second == t) clients_.erase(it);
}
bool LockStep::defer(int port) {
  auto it = clients_.find(port);
  if (it == clients_.end()) return false;
  it->second->release_hold_for_server();
  return true;
}
bool LockStep::resume(int port) {
  auto it = clients_.find(port);
  if (it == clients_.end()) return false;
  it->second->retake_hold_for_server();
  return true;
}

// ---- Transport: loop side

Transport::Transport(Endpoint endpoint, TransportTiming timing, std::shared_ptr<LockStep> lock_step)
    : endpoint_(std::move(endpoint)), timing_(timing), lock_step_(std::move(lock_step)) {
  backoff_ = timing_.backoff_min;
  worker_ = std::thread([this] { worker_main(); });
}

Transport::~Transport() {
  alive_->store(false);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (socket_fd_ >= 0) ::shutdown(socket_fd_, SHUT_RDWR);
  }
  wake_.notify_all();
  worker_.join();
  if (lock_step_ && attached_port_ >= 0) lock_step_->detach(attached_port_, this);
}

void Transport::submit(Clock& clock, Request request, Done done) {
  Job job;
  job.id = next_id_++;
  job.request = std::move(request);
  job.done = std::move(done);
  job.clock = &clock;
  queue_.push_back(std::move(job));
  if (!current_) start_next();
}

void Transport::start_next() {
  while (!current_ && !queue_.empty()) {
    current_ = std::make_unique<Job>(std::move(queue_.front()));
    queue_.pop_front();
    ++requests_;
    Clock& clock = *current_->clock;
    if (lost_ && clock.now() < reconnect_at_) {
      // Waiting to reconnect: fail at once, without touching the wire.
      Result r;
      r.failure.kind = FailureKind::connection_lost;
      r.failure.detail = "connection to " + endpoint_.describe() + " lost; next attempt to reconnect at t=" +
                         std::to_string(to_seconds(reconnect_at_)) + " s";
      finish(std::move(r));
      continue;
    }
    start_attempt();
  }
}

void Transport::start_attempt() {
  Job& job = *current_;
  ++job.attempts;
  Clock& clock = *job.clock;
  if (!hold_.held()) hold_ = clock.hold("Modbus " + job.request.describe() + " to " + endpoint_.describe());
  const std::uint64_t id = job.id;
  const int attempt = job.attempts;
  auto alive = alive_;
  timeout_timer_ = clock.call_after(timing_.timeout, [this, alive, id, attempt] {
    if (alive->load()) on_timeout(id, attempt);
  });
  {
    std::lock_guard lock(mutex_);
    io_ = &clock.io();
    work_.push_back({id, {attempt, job.request}});
  }
  wake_.notify_all();
}

void Transport::on_timeout(std::uint64_t id, int attempt) {
  timeout_timer_ = kNoTimer;
  if (!current_ || current_->id != id || current_->attempts != attempt) return;
  interrupt_worker();
  Result r;
  r.failure.kind = FailureKind::timeout;
  r.failure.detail = "no reply within " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timing_.timeout).count()) + " ms";
  r.attempts = attempt;
  if (attempt <= timing_.retries) {
    start_attempt();
    return;
  }
  finish(std::move(r));
}

void Transport::interrupt_worker() {
  // The reply is no longer wanted: shut the connection under the worker so that it stops waiting
  // and the next request starts on a fresh connection (a late reply cannot be mistaken for it).
  std::lock_guard lock(mutex_);
  reset_connection_ = true;
  if (socket_fd_ >= 0 && !endpoint_.rtu) ::shutdown(socket_fd_, SHUT_RDWR);
}

void Transport::on_worker_reply(WorkerReply reply) {
  if (!current_ || current_->id != reply.id || current_->attempts != reply.attempt) return;  // given up already
  current_->clock->cancel(timeout_timer_);
  timeout_timer_ = kNoTimer;
  Result& r = reply.result;
  r.attempts = reply.attempt;
  const FailureKind k = r.failure.kind;
  if (k == FailureKind::connection_lost) {
    if (!lost_ && reply.attempt == 1) {
      // The first loss: reconnect at once, once.
      lost_ = true;
      backoff_ = timing_.backoff_min;
      start_attempt();
      return;
    }
    lost_ = true;
    reconnect_at_ = current_->clock->now() + backoff_;
    r.failure.detail += "; reconnecting in " + std::to_string(to_seconds(backoff_)) + " s";
    backoff_ = std::min(backoff_ * 2, timing_.backoff_max);
  } else {
    lost_ = false;
    backoff_ = timing_.backoff_min;
    if ((k == FailureKind::timeout || k == FailureKind::framing || k == FailureKind::bad_reply) &&
        reply.attempt <= timing_.retries) {
      start_attempt();
      return;
    }
  }
  finish(std::move(r));
}

void Transport::attach_port(int port) {
  if (lock_step_) {
    if (attached_port_ >= 0) lock_step_->detach(attached_port_, this);
    attached_port_ = port;
    lock_step_->attach(port, this);
  }
}

void Transport::finish(Result result) {
  std::unique_ptr<Job> job = std::move(current_);
  if (!result.ok()) ++failures_[static_cast<int>(result.failure.kind)];
  hold_.release();
  Done done = std::move(job->done);
  // The next request starts before this one's handler runs: that handler may submit another.
  if (!queue_.empty()) start_next();
  if (done) done(result);
}

void Transport::cancel_all() {
  queue_.clear();
  if (current_) {
    if (current_->clock) current_->clock->cancel(timeout_timer_);
    timeout_timer_ = kNoTimer;
    interrupt_worker();
    current_.reset();
  }
  hold_.release();
  std::lock_guard lock(mutex_);
  work_.clear();
}

void Transport::release_hold_for_server() { hold_.release(); }

void Transport::retake_hold_for_server() {
  if (current_ && current_->clock && !hold_.held())
    hold_ = current_->clock->hold("Modbus " + current_->request.describe() + " to " + endpoint_.describe() + " (deferred reply)");
}

// ---- worker thread

bool Transport::connect_locked(Failure* failure, int* local_port) {
  auto* ctx = static_cast<modbus_t*>(ctx_);
  if (!ctx) {
    if (endpoint_.rtu)
      ctx = modbus_new_rtu(endpoint_.device.c_str(), endpoint_.baud, endpoint_.parity, endpoint_.data_bits, endpoint_.stop_bits);
    else
      ctx = modbus_new_tcp_pi(endpoint_.host.c_str(), std::to_string(endpoint_.port).c_str());
    if (!ctx) {
      *failure = classify_errno(errno);
      failure->kind = FailureKind::connection_lost;
      return false;
    }
    ctx_ = ctx;
  }
  // libmodbus's own timeout is a backstop: the clock's timer decides (see the file comment). RTU
  // cannot be shut down under the worker, so there it is the request's timeout itself.
  const auto backstop = endpoint_.rtu ? timing_.timeout : timing_.timeout + std::chrono::seconds(2);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(backstop).count();
  modbus_set_response_timeout(ctx, static_cast<std::uint32_t>(us / 1000000), static_cast<std::uint32_t>(us % 1000000));
  if (modbus_connect(ctx) != 0) {
    *failure = classify_errno(errno);
    failure->kind = FailureKind::connection_lost;
    failure->detail = "cannot connect to " + endpoint_.describe() + ": " + failure->detail;
    return false;
  }
  const int fd = modbus_get_socket(ctx);
  if (!endpoint_.rtu) {
    sockaddr_storage a{};
    socklen_t n = sizeof a;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) == 0) {
      if (a.ss_family == AF_INET) *local_port = ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
      else if (a.ss_family == AF_INET6) *local_port = ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
    }
  }
  std::unique_lock lock(mutex_);
  socket_fd_ = fd;
  if (lock_step_ && *local_port >= 0) {
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
    wake_.wait(lock, [&] { return port_acked_ || stopping_; });
  }
  return true;
}

Result Transport::perform(const Request& r, int* local_port) {
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
      if (endpoint_.rtu) modbus_flush(ctx);
      else modbus_close(ctx);
    }
  }
  return out;
}

void Transport::worker_main() {
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
    boost::asio::io_context* io = nullptr;
    {
      std::lock_guard lock(mutex_);
      io = io_;
    }
    boost::asio::post(*io, [this, alive, reply = std::move(reply)]() mutable {
      if (alive->load()) on_worker_reply(std::move(reply));
    });
  }
  if (auto* ctx = static_cast<modbus_t*>(ctx_)) {
    modbus_close(ctx);
    modbus_free(ctx);
  }
}

}  // namespace zhil::modbus
