// libFuzzer target: what arrives on a socketcand connection, from a client (the server's side) or a
// server (the client's side): the bytes split into messages, each parsed; a parsed frame formats
// and parses back to itself. Malformed input must be counted, never crash or loop.
#include <cstdint>
#include <string>

#include "devices/can/socketcand_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16 * 1024) return 0;
  std::string buffer(reinterpret_cast<const char*>(data), size);
  std::uint64_t malformed = 0;
  // In pieces, as a socket delivers them.
  std::string stream;
  for (std::size_t at = 0; at < buffer.size(); at += 37) {
    stream.append(buffer, at, 37);
    for (const std::string& m : zhil::can::take_messages(stream, &malformed)) {
      if (m.size() > zhil::can::kMaxSocketcandMessage) __builtin_trap();
      zhil::can::SocketcandMessage msg;
      std::string error;
      if (!zhil::can::parse_message(m, &msg, &error)) continue;
      using K = zhil::can::SocketcandMessage::Kind;
      if (msg.kind == K::send || msg.kind == K::frame) {
        if (msg.frame.len > 8) __builtin_trap();
        zhil::can::SocketcandMessage again;
        if (!zhil::can::parse_message(zhil::can::format_send(msg.frame), &again, &error) || !(again.frame == msg.frame))
          __builtin_trap();
      }
    }
  }
  if (stream.size() > zhil::can::kMaxSocketcandMessage + 37) __builtin_trap();  // garbage is not kept
  return 0;
}
