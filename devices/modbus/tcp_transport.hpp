#pragma once
// Modbus TCP on the run's loop (see modbus_transport.hpp for why): an Asio socket, the request
// written and the reply read by completion handlers that own their buffers, framed and checked by
// tcp_framing. Connecting is asynchronous too; a name is resolved by Asio's resolver.
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "devices/modbus/modbus_transport.hpp"
#include "devices/modbus/tcp_framing.hpp"

namespace zhil::modbus {

class TcpTransport final : public Transport {
 public:
  TcpTransport(Endpoint endpoint, TransportTiming timing, std::shared_ptr<LockStep> lock_step = nullptr);
  ~TcpTransport() override;

 protected:
  void send(std::uint64_t id, int attempt, const Request& r, Clock& clock) override;
  void interrupt() override;

 private:
  struct Attempt;
  void connect(std::shared_ptr<Attempt> a);
  void write(std::shared_ptr<Attempt> a);
  void fail(const std::shared_ptr<Attempt>& a, Failure f, bool drop_connection);
  void close();

  std::unique_ptr<boost::asio::ip::tcp::socket> socket_;
  boost::asio::io_context* io_ = nullptr;
  bool connected_ = false;
  std::uint16_t transaction_ = 0;
  std::shared_ptr<Attempt> current_;
};

}  // namespace zhil::modbus
