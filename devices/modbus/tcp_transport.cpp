#include "devices/modbus/tcp_transport.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace zhil::modbus {

namespace asio = boost::asio;
using asio::ip::tcp;

struct TcpTransport::Attempt {
  std::uint64_t id = 0;
  int attempt = 0;
  Request request;
  std::uint16_t transaction = 0;
  std::vector<std::uint8_t> out;
  std::array<std::uint8_t, kMaxTcpAdu> in{};
  std::size_t body = 0;
  bool done = false;
};

TcpTransport::TcpTransport(Endpoint endpoint, TransportTiming timing, std::shared_ptr<LockStep> lock_step)
    : Transport(std::move(endpoint), timing, std::move(lock_step)) {}

TcpTransport::~TcpTransport() {
  alive_->store(false);
  if (current_) current_->done = true;
  close();
}

void TcpTransport::close() {
  connected_ = false;
  if (socket_) {
    boost::system::error_code ec;
    socket_->shutdown(tcp::socket::shutdown_both, ec);
    socket_->close(ec);
    socket_.reset();
  }
}

void TcpTransport::interrupt() {
  // The reply is no longer wanted: the connection goes, so that a late reply can never be taken
  // for the answer to the next request.
  if (current_) current_->done = true;
  current_.reset();
  close();
}

void TcpTransport::fail(const std::shared_ptr<Attempt>& a, Failure f, bool drop_connection) {
  if (a->done) return;
  a->done = true;
  if (current_ == a) current_.reset();
  if (drop_connection) close();
  Result r;
  r.failure = std::move(f);
  attempt_done(a->id, a->attempt, std::move(r));
}

void TcpTransport::send(std::uint64_t id, int attempt, const Request& r, Clock& clock) {
  if (io_ != &clock.io()) {
    close();  // a socket belongs to one io_context (one run)
    io_ = &clock.io();
  }
  auto a = std::make_shared<Attempt>();
  a->id = id;
  a->attempt = attempt;
  a->request = r;
  a->transaction = ++transaction_;
  a->out = build_tcp_request(r, a->transaction);
  current_ = a;
  if (connected_) write(a);
  else connect(a);
}

void TcpTransport::connect(std::shared_ptr<Attempt> a) {
  close();
  socket_ = std::make_unique<tcp::socket>(*io_);
  tcp::socket* sock = socket_.get();
  auto alive = alive_;
  auto connected = [this, alive, a, sock](const boost::system::error_code& ec) {
    if (!alive->load() || a->done || sock != socket_.get()) return;
    if (ec) {
      Failure f;
      f.kind = FailureKind::connection_lost;
      f.detail = "cannot connect to " + endpoint().describe() + ": " + ec.message();
      fail(a, f, true);
      return;
    }
    boost::system::error_code ignored;
    socket_->set_option(tcp::no_delay(true), ignored);
    connected_ = true;
    Transport::connected();
    const auto local = socket_->local_endpoint(ignored);
    if (!ignored) attach_port(local.port());
    write(a);
  };
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(endpoint().host, ec);
  if (!ec) {
    socket_->async_connect(tcp::endpoint(address, static_cast<unsigned short>(endpoint().port)), connected);
    return;
  }
  // A host name: resolved by Asio (on its own thread), never on the loop.
  auto resolver = std::make_shared<tcp::resolver>(*io_);
  resolver->async_resolve(endpoint().host, std::to_string(endpoint().port),
                          [this, alive, a, sock, resolver, connected](const boost::system::error_code& rec,
                                                                       const tcp::resolver::results_type& results) {
                            if (!alive->load() || a->done || sock != socket_.get()) return;
                            if (rec) {
                              connected(rec);
                              return;
                            }
                            asio::async_connect(*socket_, results,
                                                [connected](const boost::system::error_code& e, const tcp::endpoint&) { connected(e); });
                          });
}

void TcpTransport::write(std::shared_ptr<Attempt> a) {
  tcp::socket* sock = socket_.get();
  auto alive = alive_;
  asio::async_write(*socket_, asio::buffer(a->out), [this, alive, a, sock](const boost::system::error_code& ec, std::size_t) {
    if (!alive->load() || a->done || sock != socket_.get()) return;
    if (ec) {
      fail(a, Failure{FailureKind::connection_lost, 0, "write to " + endpoint().describe() + ": " + ec.message()}, true);
      return;
    }
    asio::async_read(*socket_, asio::buffer(a->in.data(), kMbapHeader),
                     [this, alive, a, sock](const boost::system::error_code& ec2, std::size_t) {
                       if (!alive->load() || a->done || sock != socket_.get()) return;
                       if (ec2) {
                         fail(a, Failure{FailureKind::connection_lost, 0, "read from " + endpoint().describe() + ": " + ec2.message()}, true);
                         return;
                       }
                       a->body = tcp_body_length(a->in.data());
                       if (a->body == 0) {
                         fail(a, Failure{FailureKind::framing, 0, "reply header is not Modbus TCP (protocol or length)"}, true);
                         return;
                       }
                       asio::async_read(*socket_, asio::buffer(a->in.data() + kMbapHeader, a->body),
                                        [this, alive, a, sock](const boost::system::error_code& ec3, std::size_t) {
                                          if (!alive->load() || a->done || sock != socket_.get()) return;
                                          if (ec3) {
                                            fail(a, Failure{FailureKind::connection_lost, 0, "read from " + endpoint().describe() + ": " + ec3.message()}, true);
                                            return;
                                          }
                                          Result r;
                                          r.failure = decode_tcp_reply(a->request, a->transaction, a->in.data(),
                                                                       kMbapHeader + a->body, &r.registers);
                                          a->done = true;
                                          if (current_ == a) current_.reset();
                                          // A reply out of step (wrong transaction, framing) leaves
                                          // the stream unusable: the connection is made again.
                                          if (!r.ok() && r.failure.kind != FailureKind::exception) close();
                                          attempt_done(a->id, a->attempt, std::move(r));
                                        });
                     });
  });
}

}  // namespace zhil::modbus
