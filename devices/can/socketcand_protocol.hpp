#pragma once
// The linux-can socketcand ASCII protocol over TCP (raw mode), both sides: messages are
// "< word args... >"; the server greets "< hi >", a client asks "< open BUS >" then "< rawmode >"
// (each answered "< ok >" or "< error text >"); then the server sends "< frame ID SECS.USECS DATA >"
// (id and data in hex, data without spaces) and the client "< send ID LEN B0 B1 ... >". An id of 8
// hex digits is a 29-bit one. Written here: it is a few lines of text handling, and no library of it
// is packaged for Debian (python-can's client, used as a peer in the tests, is Python).
#include <cstdint>
#include <string>
#include <vector>

#include "devices/can/can_frame.hpp"

namespace zhil::can {

// Longest message accepted; a longer run without '>' is garbage (counted, dropped).
constexpr std::size_t kMaxSocketcandMessage = 256;

// Takes every complete "< ... >" out of `buffer` (what the socket gave so far), leaving a partial
// one. Bytes outside a message, and overlong messages, are dropped and counted in `malformed`.
std::vector<std::string> take_messages(std::string& buffer, std::uint64_t* malformed);

struct SocketcandMessage {
  enum class Kind : std::uint8_t { hi, ok, error, open, rawmode, send, frame, echo, other } kind = Kind::other;
  std::string word;  // the first word ("send", "bcmmode", ...)
  std::string arg;   // open: the bus; error: the text
  CanFrame frame;    // send, frame
  double seconds = 0;  // frame: its timestamp
};

// Parses one message (with its angle brackets). False, with `error` saying what is wrong, for a
// malformed one: a bad id or length, data that does not match the length, a frame over 8 bytes.
bool parse_message(const std::string& message, SocketcandMessage* out, std::string* error);

std::string format_frame(const CanFrame& f, double seconds);  // "< frame 123 1700000000.123456 1122 >"
std::string format_send(const CanFrame& f);                   // "< send 123 2 11 22 >"

}  // namespace zhil::can
