#include "devices/can/socketcand_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <stdexcept>

#include "devices/can/socketcand_protocol.hpp"
#include "devices/can/virtual_can_bus.hpp"
#include "harness/clock.hpp"

namespace zhil::can {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// Frames waiting for a slow client beyond this are dropped (and counted), so a client that stops
// reading costs memory bounded by this, and the bus nothing.
constexpr std::size_t kMaxQueuedBytes = 256 * 1024;
}  // namespace

struct SocketcandServer::Impl : std::enable_shared_from_this<SocketcandServer::Impl> {
  struct Session : std::enable_shared_from_this<Session> {
    Session(std::shared_ptr<Impl> server, tcp::socket s) : server(std::move(server)), socket(std::move(s)) {}
    std::shared_ptr<Impl> server;
    tcp::socket socket;
    std::array<char, 4096> in{};
    std::string pending;
    std::deque<std::string> out;
    std::size_t out_bytes = 0;
    bool writing = false;
    bool raw = false;
    std::unique_ptr<VirtualCanPort> port;

    void begin() {
      queue("< hi >");
      read();
    }
    void read() {
      auto self = shared_from_this();
      socket.async_read_some(asio::buffer(in), [self](const boost::system::error_code& ec, std::size_t n) {
        if (ec) {
          self->end();
          return;
        }
        self->pending.append(self->in.data(), n);
        for (const std::string& m : take_messages(self->pending, &self->server->counters.malformed)) self->handle(m);
        self->read();
      });
    }
    void handle(const std::string& text) {
      SocketcandMessage m;
      std::string error;
      if (!parse_message(text, &m, &error)) {
        ++server->counters.malformed;
        queue("< error " + error + " >");
        return;
      }
      using K = SocketcandMessage::Kind;
      switch (m.kind) {
        case K::open: {
          bool known = false;
          for (const std::string& b : server->buses) known = known || b == m.arg;
          if (!known || port) {
            queue(port ? "< error a bus is already open >" : "< error could not open bus " + m.arg + " >");
            return;
          }
          port = server->hub_of ? std::make_unique<VirtualCanPort>(server->hub_of(m.arg)) : std::make_unique<VirtualCanPort>(m.arg);
          queue("< ok >");
          return;
        }
        case K::rawmode:
          if (!server->running) return;  // stopped meanwhile
          if (!port) {
            queue("< error open a bus first >");
            return;
          }
          raw = true;
          port->set_receiver([w = std::weak_ptr<Session>(shared_from_this())](const CanFrame& f, Time at) {
            if (auto s = w.lock()) s->frame_out(f, at);
          });
          (void)port->open(*server->clock);
          queue("< ok >");
          return;
        case K::send: {
          if (!raw) {
            queue("< error not in raw mode >");
            return;
          }
          ++server->counters.frames_in;
          if (auto s = port->send(m.frame); !s) queue("< error " + s.message() + " >");
          return;
        }
        case K::echo: queue("< echo >"); return;
        default:
          ++server->counters.malformed;
          queue("< error unknown command " + m.word + " (zhil serves raw mode) >");
          return;
      }
    }
    void frame_out(const CanFrame& f, Time at) {
      const Clock& c = *server->clock;
      const double seconds = c.is_real_time() ? server->epoch + to_seconds(at) : to_seconds(at);
      ++server->counters.frames_out;
      // As linux-can's socketcand: no separator between messages (python-can warns on stray bytes).
      queue(format_frame(f, seconds));
    }
    void queue(std::string text) {
      if (out_bytes + text.size() > kMaxQueuedBytes) {
        ++server->counters.dropped;
        return;
      }
      out_bytes += text.size();
      out.push_back(std::move(text));
      if (!writing) write();
    }
    void write() {
      if (out.empty()) {
        writing = false;
        return;
      }
      writing = true;
      auto self = shared_from_this();
      asio::async_write(socket, asio::buffer(out.front()), [self](const boost::system::error_code& ec, std::size_t) {
        if (ec) {
          self->end();
          return;
        }
        self->out_bytes -= self->out.front().size();
        self->out.pop_front();
        self->write();
      });
    }
    void end() {
      if (port) port->close();
      boost::system::error_code ignored;
      socket.close(ignored);
      auto& list = server->sessions;
      for (auto it = list.begin(); it != list.end(); ++it)
        if (it->lock().get() == this) {
          list.erase(it);
          break;
        }
    }
  };

  std::vector<std::string> buses;
  HubOf hub_of;
  asio::io_context probe_io;  // the acceptor is bound before the run's loop is known
  std::unique_ptr<tcp::acceptor> acceptor;
  tcp::endpoint bound;
  Clock* clock = nullptr;
  double epoch = 0;
  SocketcandServerCounters counters;
  std::vector<std::weak_ptr<Session>> sessions;
  bool running = false;

  void accept() {
    auto self = shared_from_this();
    acceptor->async_accept([self](const boost::system::error_code& ec, tcp::socket s) {
      if (!self->running) return;
      if (!ec) {
        ++self->counters.sessions;
        auto session = std::make_shared<Session>(self, std::move(s));
        self->sessions.push_back(session);
        session->begin();
      }
      self->accept();
    });
  }
};

SocketcandServer::SocketcandServer(std::vector<std::string> buses, const std::string& address, int port, HubOf hub_of)
    : impl_(std::make_shared<Impl>()) {
  impl_->buses = std::move(buses);
  impl_->hub_of = std::move(hub_of);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("socketcand server: bad address " + address);
  impl_->bound = tcp::endpoint(ip, static_cast<unsigned short>(port));
  // Bound now, so that a taken port is an error before the run starts; accepted on the run's loop.
  impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->probe_io);
  tcp::acceptor& probe = *impl_->acceptor;
  probe.open(impl_->bound.protocol(), ec);
  if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) probe.bind(impl_->bound, ec);
  if (!ec) probe.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("socketcand server: cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  impl_->bound = probe.local_endpoint();
}

SocketcandServer::~SocketcandServer() { stop(); }

int SocketcandServer::port() const { return impl_->bound.port(); }

void SocketcandServer::start(Clock& clock) {
  impl_->clock = &clock;
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  impl_->epoch = std::chrono::duration<double>(wall).count() - to_seconds(clock.now());
  // Move the listening socket onto the run's loop.
  boost::system::error_code ec;
  const auto native = impl_->acceptor->release(ec);
  impl_->acceptor = std::make_unique<tcp::acceptor>(clock.io(), impl_->bound.protocol(), native);
  impl_->running = true;
  impl_->accept();
}

void SocketcandServer::stop() {
  if (!impl_->running) return;
  impl_->running = false;
  boost::system::error_code ec;
  impl_->acceptor->close(ec);
  for (auto& w : impl_->sessions)
    if (auto s = w.lock()) {
      if (s->port) s->port->close();
      s->socket.close(ec);
    }
  impl_->sessions.clear();
  impl_->acceptor.reset();  // not kept past the run's io_context
  impl_->clock = nullptr;
}

const SocketcandServerCounters& SocketcandServer::counters() const { return impl_->counters; }

}  // namespace zhil::can
