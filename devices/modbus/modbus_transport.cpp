#include "devices/modbus/modbus_transport.hpp"

#include "devices/modbus/tcp_transport.hpp"
#include "devices/modbus/worker_transport.hpp"

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
}

Transport::~Transport() {
  alive_->store(false);
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
  send(id, attempt, job.request, clock);
}

void Transport::on_timeout(std::uint64_t id, int attempt) {
  timeout_timer_ = kNoTimer;
  if (!current_ || current_->id != id || current_->attempts != attempt) return;
  interrupt();
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

void Transport::attempt_done(std::uint64_t id, int attempt, Result result) {
  if (!current_ || current_->id != id || current_->attempts != attempt) return;  // given up already
  current_->clock->cancel(timeout_timer_);
  timeout_timer_ = kNoTimer;
  Result& r = result;
  r.attempts = attempt;
  const FailureKind k = r.failure.kind;
  if (k == FailureKind::connection_lost) {
    if (!lost_ && attempt == 1) {
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
        attempt <= timing_.retries) {
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
    current_.reset();
  }
  // Whatever is in flight is dropped with the connection (a socket also belongs to its run's loop).
  interrupt();
  hold_.release();
}

void Transport::release_hold_for_server() { hold_.release(); }

void Transport::retake_hold_for_server() {
  if (current_ && current_->clock && !hold_.held())
    hold_ = current_->clock->hold("Modbus " + current_->request.describe() + " to " + endpoint_.describe() + " (deferred reply)");
}

std::shared_ptr<Transport> make_transport(const Endpoint& endpoint, const TransportTiming& timing,
                                          std::shared_ptr<LockStep> lock_step) {
  if (endpoint.rtu || endpoint.libmodbus_client) return std::make_shared<WorkerTransport>(endpoint, timing, std::move(lock_step));
  return std::make_shared<TcpTransport>(endpoint, timing, std::move(lock_step));
}

}  // namespace zhil::modbus
