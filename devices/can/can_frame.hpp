#pragma once
// One classical CAN 2.0 frame as every CAN transport of zhil carries it (SocketCAN's struct
// can_frame without its kernel flags packed into the id): 11- or 29-bit id, up to 8 data bytes, and
// the remote and error flags. CAN FD is not carried.
#include <array>
#include <cstdint>
#include <string>

#include "harness/time.hpp"

namespace zhil::can {

struct CanFrame {
  std::uint32_t id = 0;   // 11 bits, or 29 with `extended`
  bool extended = false;
  bool remote = false;    // RTR: no data, a request
  bool error = false;     // an error frame (SocketCAN CAN_ERR_FLAG): id holds the error class bits
  std::uint8_t len = 0;   // 0..8
  std::array<std::uint8_t, 8> data{};

  bool operator==(const CanFrame& o) const {
    if (id != o.id || extended != o.extended || remote != o.remote || error != o.error || len != o.len) return false;
    for (std::uint8_t k = 0; k < len; ++k)
      if (data[k] != o.data[k]) return false;
    return true;
  }
};

// A frame as it was seen on a bus: when (run time) and on which bus.
struct TimedFrame {
  Time at{0};
  CanFrame frame;
};

// "1700000000.123456": seconds with microseconds, as candump logs and socketcand frames write time.
std::string format_seconds_micros(double seconds);

// can-utils' compact form: "123#11223344", "1ABCDEF0#", "123#R", extended ids with 8 hex digits.
std::string to_compact(const CanFrame& f);
// Parses the compact form (candump -L logs, cansend arguments). False on anything else.
bool parse_compact(const std::string& text, CanFrame* out);

}  // namespace zhil::can
