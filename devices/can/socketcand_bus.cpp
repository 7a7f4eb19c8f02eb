#include "devices/can/socketcand_bus.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <deque>

#include "devices/can/socketcand_protocol.hpp"
#include "harness/clock.hpp"

namespace zhil::can {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t kMaxClientQueue = 256 * 1024;
}  // namespace

struct SocketcandBus::Impl : std::enable_shared_from_this<SocketcandBus::Impl> {
  enum class Step : std::uint8_t { closed, connecting, hi, open, raw, up, waiting };
  SocketcandBus* owner = nullptr;
  SocketcandEndpoint ep;
  Clock* clock = nullptr;
  std::unique_ptr<tcp::socket> socket;
  std::unique_ptr<tcp::resolver> resolver;
  Step step = Step::closed;
  std::uint64_t generation = 0;  // a handler of an older connection does nothing
  std::array<char, 4096> in{};
  std::string pending;
  std::deque<std::string> out;
  bool writing = false;
  Duration backoff{0};
  TimerId retry_timer = 0;
  std::string last_error;

  void connect() {
    const std::uint64_t gen = ++generation;
    step = Step::connecting;
    pending.clear();
    out.clear();
    out_bytes = 0;
    writing = false;
    socket = std::make_unique<tcp::socket>(clock->io());
    resolver = std::make_unique<tcp::resolver>(clock->io());
    auto self = shared_from_this();
    resolver->async_resolve(ep.host, std::to_string(ep.port), [self, gen](const boost::system::error_code& ec, tcp::resolver::results_type r) {
      if (gen != self->generation) return;
      if (ec) return self->lost("cannot resolve " + self->ep.host + ": " + ec.message());
      asio::async_connect(*self->socket, r, [self, gen](const boost::system::error_code& ec2, const tcp::endpoint&) {
        if (gen != self->generation) return;
        if (ec2) return self->lost("cannot connect to " + self->where() + ": " + ec2.message());
        self->step = Step::hi;
        self->read(gen);
      });
    });
  }
  std::string where() const { return ep.host + ":" + std::to_string(ep.port); }
  void read(std::uint64_t gen) {
    auto self = shared_from_this();
    socket->async_read_some(asio::buffer(in), [self, gen](const boost::system::error_code& ec, std::size_t n) {
      if (gen != self->generation) return;
      if (ec) return self->lost("connection to " + self->where() + " lost: " + ec.message());
      self->pending.append(self->in.data(), n);
      for (const std::string& m : take_messages(self->pending, &self->owner->counters_.errors)) {
        self->handle(m);
        if (gen != self->generation) return;
      }
      self->read(gen);
    });
  }
  void handle(const std::string& text) {
    SocketcandMessage m;
    std::string error;
    if (!parse_message(text, &m, &error)) {
      ++owner->counters_.errors;
      last_error = where() + ": " + error;
      return;
    }
    using K = SocketcandMessage::Kind;
    if (m.kind == K::error) {
      last_error = where() + ": server: " + m.arg;
      if (step != Step::up) lost("server refused: " + m.arg);
      else ++owner->counters_.errors;
      return;
    }
    switch (step) {
      case Step::hi:
        if (m.kind != K::hi) return lost("expected < hi > from " + where() + ", got " + text);
        step = Step::open;
        write("< open " + ep.bus + " >");
        return;
      case Step::open:
        if (m.kind != K::ok) return lost("expected < ok > to open " + ep.bus + ", got " + text);
        step = Step::raw;
        write("< rawmode >");
        return;
      case Step::raw:
        if (m.kind != K::ok) return lost("expected < ok > to rawmode, got " + text);
        step = Step::up;
        backoff = Duration{0};
        return;
      case Step::up:
        if (m.kind == K::frame) owner->deliver(m.frame, clock->now());
        return;
      default: return;
    }
  }
  std::size_t out_bytes = 0;  // what `out` holds, kept as it changes (asked on every send)
  std::size_t queued_bytes() const { return out_bytes; }
  void write(std::string text) {
    out_bytes += text.size();
    out.push_back(std::move(text));
    if (!writing) pump(generation);
  }
  void pump(std::uint64_t gen) {
    if (out.empty()) {
      writing = false;
      return;
    }
    writing = true;
    auto self = shared_from_this();
    asio::async_write(*socket, asio::buffer(out.front()), [self, gen](const boost::system::error_code& ec, std::size_t) {
      if (gen != self->generation) return;
      if (ec) return self->lost("write to " + self->where() + " failed: " + ec.message());
      self->out_bytes -= self->out.front().size();
      self->out.pop_front();
      self->pump(gen);
    });
  }
  void lost(const std::string& why) {
    last_error = why;
    ++generation;  // every handler of this connection is now stale
    boost::system::error_code ignored;
    if (socket) socket->close(ignored);
    if (step == Step::closed) return;
    step = Step::waiting;
    ++owner->counters_.restarts;
    // At once the first time, then doubling up to the cap.
    backoff = backoff == Duration{0} ? ep.backoff_min / 2 : std::min(ep.backoff_max, backoff * 2);
    auto self = shared_from_this();
    retry_timer = clock->call_after(backoff, [self] {
      self->retry_timer = 0;
      if (self->step == Step::waiting) self->connect();
    });
  }
};

SocketcandBus::SocketcandBus(SocketcandEndpoint endpoint) : impl_(std::make_shared<Impl>()) {
  impl_->owner = this;
  impl_->ep = std::move(endpoint);
}

SocketcandBus::~SocketcandBus() { close(); }

std::string SocketcandBus::name() const { return impl_->where() + "/" + impl_->ep.bus; }

Status SocketcandBus::open(Clock& clock) {
  impl_->clock = &clock;
  log_attach();
  impl_->backoff = Duration{0};
  impl_->connect();
  return Status::ok();
}

void SocketcandBus::close() {
  if (impl_->step != Impl::Step::closed) log_detach();
  if (impl_->clock && impl_->retry_timer) impl_->clock->cancel(impl_->retry_timer);
  impl_->retry_timer = 0;
  impl_->step = Impl::Step::closed;
  ++impl_->generation;
  boost::system::error_code ignored;
  if (impl_->socket) impl_->socket->close(ignored);
  if (impl_->resolver) impl_->resolver->cancel();
  // Not kept past the run's io_context (the bus may outlive the run that opened it).
  impl_->socket.reset();
  impl_->resolver.reset();
  impl_->out.clear();
  impl_->out_bytes = 0;
  impl_->writing = false;
}

Status SocketcandBus::send(const CanFrame& frame) {
  if (impl_->step != Impl::Step::up)
    return Status::error("bus " + name() + " is not connected" + (impl_->last_error.empty() ? "" : " (" + impl_->last_error + ")"));
  if (frame.error || frame.remote) return Status::error("bus " + name() + ": socketcand raw mode sends data frames only");
  if (impl_->queued_bytes() > kMaxClientQueue) {
    ++counters_.dropped;  // the server stopped reading: refuse rather than grow without bound
    return Status::error("bus " + name() + ": the server is not reading (" + std::to_string(impl_->queued_bytes()) + " bytes queued)");
  }
  impl_->write(format_send(frame));
  ++counters_.tx;
  if (logs_own_traffic_) log_tx(frame, impl_->clock->now());
  return Status::ok();
}

BusState SocketcandBus::state() const {
  switch (impl_->step) {
    case Impl::Step::closed: return BusState::closed;
    case Impl::Step::up: return BusState::active;
    default: return BusState::reconnecting;
  }
}

const std::string& SocketcandBus::last_error() const { return impl_->last_error; }

}  // namespace zhil::can
