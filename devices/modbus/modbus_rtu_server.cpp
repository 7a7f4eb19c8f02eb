#include "devices/modbus/modbus_rtu_server.hpp"

#include <modbus/modbus.h>
#include <poll.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "devices/modbus/request_checks.hpp"

namespace zhil::modbus {

std::uint16_t modbus_crc16(const std::uint8_t* data, std::size_t n) {
  std::uint16_t crc = 0xFFFF;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int b = 0; b < 8; ++b) crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : static_cast<std::uint16_t>(crc >> 1);
  }
  return crc;
}

int rtu_request_length(const std::uint8_t* f, std::size_t have) {
  if (have < 2) return 0;
  switch (f[1]) {
    case 1: case 2: case 3: case 4: case 5: case 6: return 8;
    case 15: case 16:
      if (have < 7) return 0;
      return 9 + f[6];
    case 23:
      if (have < 11) return 0;
      return 13 + f[10];
    default: return -1;
  }
}

ModbusRtuServer::ModbusRtuServer(RegisterBackend& backend, const std::string& device, int baud, char parity, int stop_bits)
    : backend_(backend), device_(device) {
  modbus_t* ctx = modbus_new_rtu(device.c_str(), baud, parity, 8, stop_bits);
  if (!ctx) throw std::runtime_error("Modbus RTU server: " + device + ": " + modbus_strerror(errno));
  if (modbus_connect(ctx) != 0) {
    const int err = errno;
    modbus_free(ctx);
    throw std::runtime_error("Modbus RTU server: cannot open " + device + ": " + modbus_strerror(err));
  }
  ctx_ = ctx;
  fd_ = modbus_get_socket(ctx);
}

ModbusRtuServer::~ModbusRtuServer() {
  stop();
  alive_->store(false);
  if (auto* ctx = static_cast<modbus_t*>(ctx_)) {
    modbus_close(ctx);
    modbus_free(ctx);
  }
}

void ModbusRtuServer::start(boost::asio::io_context& io) {
  stop();
  io_ = &io;
  stopping_ = false;
  thread_ = std::thread([this] { reader(); });
}

void ModbusRtuServer::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ModbusRtuServer::note_malformed() {
  // Counted on the loop, where the counters are read.
  auto alive = alive_;
  boost::asio::post(*io_, [this, alive] {
    if (alive->load()) ++counters_.malformed;
  });
}

void ModbusRtuServer::reader() {
  std::vector<std::uint8_t> frame;
  std::uint8_t buf[256];
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    // Inter-frame silence: at the baud rates in use 3.5 characters is under 2 ms; 5 ms of quiet
    // ends a frame whose length could not be told, or throws away a broken one.
    const int r = ::poll(&p, 1, frame.empty() ? 100 : 5);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) {
      if (!frame.empty()) {
        if (frame.size() >= 4 && rtu_request_length(frame.data(), frame.size()) == -1 &&
            modbus_crc16(frame.data(), frame.size() - 2) == (frame[frame.size() - 2] | frame[frame.size() - 1] << 8)) {
          auto alive = alive_;
          boost::asio::post(*io_, [this, alive, f = frame] {
            if (alive->load()) answer(f);
          });
        } else {
          note_malformed();
        }
        frame.clear();
      }
      continue;
    }
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) continue;
    frame.insert(frame.end(), buf, buf + n);
    for (;;) {
      const int need = rtu_request_length(frame.data(), frame.size());
      if (need <= 0 || frame.size() < static_cast<std::size_t>(need)) break;
      std::vector<std::uint8_t> one(frame.begin(), frame.begin() + need);
      frame.erase(frame.begin(), frame.begin() + need);
      const std::uint16_t crc = static_cast<std::uint16_t>(one[one.size() - 2] | one[one.size() - 1] << 8);
      if (modbus_crc16(one.data(), one.size() - 2) != crc) {
        note_malformed();  // a damaged frame is not answered, as on a real line
        frame.clear();
        break;
      }
      auto alive = alive_;
      boost::asio::post(*io_, [this, alive, one = std::move(one)] {
        if (alive->load()) answer(one);
      });
    }
    if (frame.size() > 256) frame.clear();
  }
}

void ModbusRtuServer::answer(const std::vector<std::uint8_t>& frame) {
  auto* ctx = static_cast<modbus_t*>(ctx_);
  ++counters_.requests;
  const int unit = frame[0];
  if (unit != 0 && !backend_.has_unit(unit)) return;  // another device's request on a shared line
  std::vector<std::uint8_t> req(frame);
  auto reply_exception = [&](int code) {
    ++counters_.exceptions;
    if (unit != 0) modbus_reply_exception(ctx, req.data(), static_cast<unsigned>(code));
  };
  const int u = unit == 0 ? (backend_.has_unit(1) ? 1 : unit) : unit;
  PduSummary s;
  if (int code = check_request(backend_, u, req.data() + 1, req.size() - 3, &s)) return reply_exception(code);
  if (s.read_count > 0) backend_.refresh(u);
  RegisterWindow& w = backend_.window(u);
  modbus_mapping_t map{};
  map.start_registers = map.start_input_registers = w.base;
  map.nb_registers = map.nb_input_registers = static_cast<int>(w.regs.size());
  map.tab_registers = map.tab_input_registers = w.regs.data();
  modbus_set_slave(ctx, unit == 0 ? 1 : unit);
  modbus_reply(ctx, req.data(), static_cast<int>(req.size()), &map);
  if (s.write_count > 0) backend_.written(u, s.write_address, s.write_count);
}

}  // namespace zhil::modbus
