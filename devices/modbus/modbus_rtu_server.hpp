#pragma once
// A Modbus RTU server on a serial line (a USB adapter, or one end of a pseudo-terminal pair in
// tests), for the simulators: libmodbus opens and configures the line and builds every reply
// (modbus_reply, with its CRC); a reader thread frames requests (libmodbus's own receive accepts
// one unit id per context, and a string of modules answers for units 1..N) and posts each to the
// loop, which checks it, brings the registers up to date and answers, as the TCP server does. The
// loop never blocks on the line: a reply of at most 256 bytes goes into the tty's buffer.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "devices/modbus/modbus_tcp_server.hpp"
#include "devices/modbus/register_backend.hpp"

namespace boost::asio {
class io_context;
}

namespace zhil::modbus {

// CRC-16/MODBUS of `n` bytes. Written here because libmodbus keeps its own CRC private, and the
// reader must check a frame before it knows the frame is one (for the fuzz target, too).
std::uint16_t modbus_crc16(const std::uint8_t* data, std::size_t n);

// How long an RTU request is from its first bytes: 0 while more bytes are needed to tell, -1 for a
// function code whose length this server cannot tell (it waits for the line to go quiet).
int rtu_request_length(const std::uint8_t* frame, std::size_t have);

class ModbusRtuServer {
 public:
  // Opens the line at once (throws std::runtime_error naming it).
  ModbusRtuServer(RegisterBackend& backend, const std::string& device, int baud, char parity = 'N', int stop_bits = 1);
  ~ModbusRtuServer();
  void start(boost::asio::io_context& io);
  void stop();
  const ServerCounters& counters() const { return counters_; }

 private:
  void reader();
  void note_malformed();
  void answer(const std::vector<std::uint8_t>& frame);

  RegisterBackend& backend_;
  std::string device_;
  void* ctx_ = nullptr;  // modbus_t
  int fd_ = -1;
  boost::asio::io_context* io_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  ServerCounters counters_;
};

}  // namespace zhil::modbus
