#include "devices/can/can_frame.hpp"

#include <cmath>
#include <cstdio>

namespace zhil::can {

std::string format_seconds_micros(double seconds) {
  const double whole = std::floor(seconds);
  long long usec = std::llround((seconds - whole) * 1e6);
  long long secs = static_cast<long long>(whole);
  if (usec >= 1000000) {  // rounded up to the next second
    usec -= 1000000;
    ++secs;
  }
  char b[48];
  std::snprintf(b, sizeof b, "%lld.%06lld", secs, usec);
  return b;
}

std::string to_compact(const CanFrame& f) {
  char b[48];
  int n = f.extended || f.error ? std::snprintf(b, sizeof b, "%08X#", f.id | (f.error ? 0x20000000u : 0u))
                                : std::snprintf(b, sizeof b, "%03X#", f.id);
  if (f.remote) {
    b[n++] = 'R';
    b[n] = 0;
    return b;
  }
  for (std::uint8_t k = 0; k < f.len && k < 8; ++k) n += std::snprintf(b + n, sizeof b - static_cast<std::size_t>(n), "%02X", f.data[k]);
  return b;
}

namespace {
int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool parse_compact(const std::string& text, CanFrame* out) {
  const auto hash = text.find('#');
  if (hash == std::string::npos || (hash != 3 && hash != 8)) return false;
  CanFrame f;
  std::uint32_t id = 0;
  for (std::size_t k = 0; k < hash; ++k) {
    const int h = hex(text[k]);
    if (h < 0) return false;
    id = id << 4 | static_cast<std::uint32_t>(h);
  }
  if (hash == 8) {
    // can-utils marks an error frame by CAN_ERR_FLAG (0x20000000) in the printed id.
    f.error = (id & 0x20000000u) != 0;
    f.extended = !f.error;
    id &= 0x1FFFFFFFu;
  } else if (id > 0x7FF) {
    return false;
  }
  f.id = id;
  std::size_t at = hash + 1;
  if (at < text.size() && (text[at] == 'R' || text[at] == 'r')) {
    f.remote = true;
    if (at + 1 != text.size()) return false;
    *out = f;
    return true;
  }
  while (at < text.size()) {
    if (text[at] == '.') {  // cansend's optional byte separator
      ++at;
      continue;
    }
    if (at + 1 >= text.size() || f.len == 8) return false;
    const int hi = hex(text[at]), lo = hex(text[at + 1]);
    if (hi < 0 || lo < 0) return false;
    f.data[f.len++] = static_cast<std::uint8_t>(hi << 4 | lo);
    at += 2;
  }
  *out = f;
  return true;
}

}  // namespace zhil::can
