#include "devices/modbus/modbus_tcp_server.hpp"

#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "devices/modbus/request_checks.hpp"

namespace zhil::modbus {

namespace asio = boost::asio;
using asio::ip::tcp;

struct ModbusTcpServer::Impl {
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(Impl& s, tcp::socket sock) : server(s), socket(std::move(sock)) {
      ctx = modbus_new_tcp("127.0.0.1", 502);  // never connects: it only frames replies on our socket
      if (ctx) modbus_set_socket(ctx, socket.native_handle());
      boost::system::error_code ec;
      auto ep = socket.remote_endpoint(ec);
      peer_port = ec ? -1 : ep.port();
    }
    ~Connection() {
      if (ctx) {
        modbus_set_socket(ctx, -1);  // the socket is Asio's to close
        modbus_free(ctx);
      }
    }
    void read_header();
    void read_body(std::size_t body);
    std::map<std::tuple<int, int, int>, std::vector<std::uint16_t>> last_reads;  // proxy: for frozen replies
    void handle(std::size_t length);
    bool answer(std::size_t length);  // false: the reply comes later (forwarded)
    bool forward(std::size_t length);
    void reply_with(const std::vector<std::uint8_t>& req, const PduSummary& s, const Result& r);
    void close();

    Impl& server;
    tcp::socket socket;
    modbus_t* ctx = nullptr;
    int peer_port = -1;
    std::array<std::uint8_t, MODBUS_TCP_MAX_ADU_LENGTH> buf{};
    bool closed = false;
    TimerId delay_timer = kNoTimer;
  };

  Impl(ModbusTcpServer& o) : owner(o) {}
  void accept();
  void listen_again();

  ModbusTcpServer& owner;
  int listen_fd = -1;  // bound at construction, before there is a loop
  Clock* clock = nullptr;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::set<std::shared_ptr<Connection>> connections;
  std::shared_ptr<LockStep> lock_step;
  TimerId restart_timer = kNoTimer;
  bool down = false;
  std::uint64_t generation = 0;  // of the listener; an accept of an earlier one is dropped
};

namespace {

int bind_listener(const std::string& address, int port, int* bound_port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("Modbus server: socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) {
    ::close(fd);
    throw std::runtime_error("Modbus server: '" + address + "' is not an IPv4 address");
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("Modbus server: cannot listen on " + address + ":" + std::to_string(port) + ": " +
                             std::strerror(err));
  }
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  *bound_port = ntohs(a.sin_port);
  return fd;
}

}  // namespace

ModbusTcpServer::ModbusTcpServer(RegisterBackend& backend, const std::string& address, int port,
                                 std::shared_ptr<LockStep> lock_step)
    : impl_(std::make_unique<Impl>(*this)), backend_(&backend), address_(address) {
  impl_->listen_fd = bind_listener(address, port, &port_);
  impl_->lock_step = std::move(lock_step);
}

ModbusTcpServer::ModbusTcpServer(Forward forward, const std::string& address, int port)
    : impl_(std::make_unique<Impl>(*this)), forward_(std::move(forward)), address_(address) {
  impl_->listen_fd = bind_listener(address, port, &port_);
}

ModbusTcpServer::~ModbusTcpServer() {
  stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
}

void ModbusTcpServer::start(Clock& clock) {
  stop();
  impl_->clock = &clock;
  if (impl_->listen_fd < 0) {
    int p = 0;
    impl_->listen_fd = bind_listener(address_, port_, &p);
  }
  impl_->acceptor = std::make_unique<tcp::acceptor>(clock.io());
  impl_->acceptor->assign(tcp::v4(), ::dup(impl_->listen_fd));
  impl_->down = false;
  ++impl_->generation;
  impl_->accept();
}

void ModbusTcpServer::stop() {
  if (impl_->clock) impl_->clock->cancel(impl_->restart_timer);
  impl_->restart_timer = kNoTimer;
  drop_connections();
  if (impl_->acceptor) {
    boost::system::error_code ec;
    impl_->acceptor->close(ec);
    impl_->acceptor.reset();
  }
  impl_->clock = nullptr;
}

void ModbusTcpServer::drop_connections() {
  auto all = impl_->connections;
  for (const auto& c : all) c->close();
  impl_->connections.clear();
}

void ModbusTcpServer::restart(Duration downtime) {
  if (!impl_->clock || impl_->down) return;
  Clock& clock = *impl_->clock;
  drop_connections();
  // A restarting device refuses connections: close the listening socket itself.
  boost::system::error_code ec;
  if (impl_->acceptor) impl_->acceptor->close(ec);
  impl_->acceptor.reset();
  ::close(impl_->listen_fd);
  impl_->listen_fd = -1;
  impl_->down = true;
  impl_->restart_timer = clock.call_after(downtime, [this] {
    impl_->restart_timer = kNoTimer;
    impl_->listen_again();
  });
}

void ModbusTcpServer::Impl::listen_again() {
  if (!clock) return;
  int p = 0;
  try {
    listen_fd = bind_listener(owner.address_, owner.port_, &p);
  } catch (const std::runtime_error&) {
    // The port is taken meanwhile (a client's own connection attempt can land on it): still down;
    // try again shortly, as a restarting device would.
    restart_timer = clock->call_after(std::chrono::milliseconds(100), [this] {
      restart_timer = kNoTimer;
      listen_again();
    });
    return;
  }
  acceptor = std::make_unique<tcp::acceptor>(clock->io());
  acceptor->assign(tcp::v4(), ::dup(listen_fd));
  down = false;
  ++generation;
  accept();
}

void ModbusTcpServer::Impl::accept() {
  if (!acceptor) return;
  acceptor->async_accept([this, generation = generation](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec || generation != this->generation) return;  // closed (stop, restart)
    socket.set_option(tcp::no_delay(true));
    auto c = std::make_shared<Connection>(*this, std::move(socket));
    connections.insert(c);
    ++owner.counters_.connections;
    c->read_header();
    accept();
  });
}

void ModbusTcpServer::Impl::Connection::close() {
  if (closed) return;
  closed = true;
  if (server.clock) server.clock->cancel(delay_timer);
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  server.connections.erase(shared_from_this());
}

void ModbusTcpServer::Impl::Connection::read_header() {
  auto self = shared_from_this();
  asio::async_read(socket, asio::buffer(buf.data(), 7), [this, self](const boost::system::error_code& ec, std::size_t) {
    if (ec || closed) {
      close();
      return;
    }
    const std::size_t length = static_cast<std::size_t>(buf[4] << 8 | buf[5]);  // unit id + PDU
    const int protocol = buf[2] << 8 | buf[3];
    if (protocol != 0 || length < 2 || length > MODBUS_TCP_MAX_ADU_LENGTH - 6) {
      ++server.owner.counters_.malformed;
      close();  // not Modbus: the stream cannot be resynchronised
      return;
    }
    read_body(length - 1);
  });
}

void ModbusTcpServer::Impl::Connection::read_body(std::size_t body) {
  auto self = shared_from_this();
  asio::async_read(socket, asio::buffer(buf.data() + 7, body), [this, self, body](const boost::system::error_code& ec, std::size_t) {
    if (ec || closed) {
      close();
      return;
    }
    handle(7 + body);
  });
}

void ModbusTcpServer::Impl::Connection::handle(std::size_t length) {
  ModbusTcpServer& o = server.owner;
  ++o.counters_.requests;
  const ServerFaults& f = o.faults_;
  if (f.no_reply) {
    // Heard and ignored: the client times out. Time may pass meanwhile (LockStep).
    if (server.lock_step) server.lock_step->defer(peer_port);
    ++o.counters_.dropped;
    read_header();
    return;
  }
  if (f.delay > Duration{0} && server.clock) {
    if (server.lock_step) server.lock_step->defer(peer_port);
    auto self = shared_from_this();
    std::vector<std::uint8_t> req(buf.begin(), buf.begin() + static_cast<long>(length));
    delay_timer = server.clock->call_after(f.delay, [this, self, req = std::move(req)] {
      delay_timer = kNoTimer;
      if (closed) return;
      if (server.lock_step) server.lock_step->resume(peer_port);
      std::copy(req.begin(), req.end(), buf.begin());
      if (answer(req.size()) && !closed) read_header();
    });
    return;
  }
  if (answer(length) && !closed) read_header();
}

bool ModbusTcpServer::Impl::Connection::answer(std::size_t length) {
  ModbusTcpServer& o = server.owner;
  const int unit = buf[6];
  auto reply_exception = [&](int code) {
    ++o.counters_.exceptions;
    if (modbus_reply_exception(ctx, buf.data(), static_cast<unsigned>(code)) < 0) close();
    return true;
  };
  if (!ctx) {
    close();
    return true;
  }
  if (o.forward_) return forward(length);
  RegisterBackend& b = *o.backend_;
  if (!b.has_unit(unit)) return reply_exception(MODBUS_EXCEPTION_GATEWAY_TARGET);
  if (o.faults_.exception > 0) return reply_exception(o.faults_.exception);
  PduSummary s;
  if (int code = check_request(b, unit, buf.data() + 7, length - 7, &s)) return reply_exception(code);
  if (s.read_count > 0 && !o.faults_.freeze) b.refresh(unit);
  RegisterWindow& w = b.window(unit);
  modbus_mapping_t map{};
  map.start_registers = map.start_input_registers = w.base;
  map.nb_registers = map.nb_input_registers = static_cast<int>(w.regs.size());
  map.tab_registers = map.tab_input_registers = w.regs.data();
  std::vector<std::uint16_t> kept;
  if (o.faults_.corrupt && s.read_count > 0 && w.holds(s.read_address, s.read_count)) {
    // Well-formed replies whose values are wrong: every register read reads 0x7FFE (out of range
    // for every reading the maps bound). The registers are put back afterwards.
    auto span = w.at(s.read_address, s.read_count);
    kept.assign(span.begin(), span.end());
    std::fill(span.begin(), span.end(), 0x7FFE);
  }
  const int rc = modbus_reply(ctx, buf.data(), static_cast<int>(length), &map);
  if (!kept.empty()) std::copy(kept.begin(), kept.end(), w.at(s.read_address, s.read_count).begin());
  if (rc < 0) {
    close();  // the client does not read its replies: drop it rather than block the loop
    return true;
  }
  if (s.write_count > 0) b.written(unit, s.write_address, s.write_count);
  return true;
}

bool ModbusTcpServer::Impl::Connection::forward(std::size_t length) {
  ModbusTcpServer& o = server.owner;
  const int unit = buf[6];
  std::vector<std::uint8_t> req(buf.begin(), buf.begin() + static_cast<long>(length));
  PduSummary s;
  if (int code = summarise_pdu(req.data() + 7, length - 7, &s)) {
    ++o.counters_.exceptions;
    if (modbus_reply_exception(ctx, req.data(), static_cast<unsigned>(code)) < 0) close();
    return true;
  }
  if (o.faults_.exception > 0) {
    ++o.counters_.exceptions;
    if (modbus_reply_exception(ctx, req.data(), static_cast<unsigned>(o.faults_.exception)) < 0) close();
    return true;
  }
  const auto key = std::make_tuple(unit, s.read_address, s.read_count);
  if (o.faults_.freeze && s.write_count == 0) {
    auto it = last_reads.find(key);
    if (it != last_reads.end()) {
      Result frozen;
      frozen.registers = it->second;
      reply_with(req, s, frozen);
      return true;
    }
  }
  auto self = shared_from_this();
  o.forward_(unit, s, [this, self, req, s, key](const Result& r) {
    if (closed) return;
    if (r.ok() && s.read_count > 0) last_reads[key] = r.registers;
    reply_with(req, s, r);
    if (!closed) read_header();
  });
  return false;
}

void ModbusTcpServer::Impl::Connection::reply_with(const std::vector<std::uint8_t>& req, const PduSummary& s, const Result& r) {
  ModbusTcpServer& o = server.owner;
  std::vector<std::uint8_t> q(req);
  if (!r.ok()) {
    ++o.counters_.exceptions;
    const int code = r.failure.kind == FailureKind::exception ? r.failure.exception_code : MODBUS_EXCEPTION_GATEWAY_TARGET;
    if (modbus_reply_exception(ctx, q.data(), static_cast<unsigned>(code)) < 0) close();
    return;
  }
  // The device's answer, framed again by libmodbus for this client: the registers it returned (a
  // write is echoed the same way).
  const int first = s.read_count > 0 ? s.read_address : s.write_address;
  const int count = s.read_count > 0 ? s.read_count : s.write_count;
  std::vector<std::uint16_t> regs(static_cast<std::size_t>(count), 0);
  if (s.read_count > 0) {
    for (std::size_t k = 0; k < regs.size() && k < r.registers.size(); ++k) regs[k] = r.registers[k];
    if (o.faults_.corrupt) std::fill(regs.begin(), regs.end(), 0x7FFE);
  }
  modbus_mapping_t map{};
  map.start_registers = map.start_input_registers = first;
  map.nb_registers = map.nb_input_registers = count;
  map.tab_registers = map.tab_input_registers = regs.data();
  if (modbus_reply(ctx, q.data(), static_cast<int>(q.size()), &map) < 0) close();
}

}  // namespace zhil::modbus
