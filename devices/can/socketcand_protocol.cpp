#include "devices/can/socketcand_protocol.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace zhil::can {

std::vector<std::string> take_messages(std::string& buffer, std::uint64_t* malformed) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < buffer.size()) {
    const std::size_t open = buffer.find('<', at);
    if (open == std::string::npos) {
      // Whitespace between messages is normal; anything else is garbage.
      for (std::size_t k = at; k < buffer.size(); ++k)
        if (!std::isspace(static_cast<unsigned char>(buffer[k]))) {
          ++*malformed;
          break;
        }
      at = buffer.size();
      break;
    }
    for (std::size_t k = at; k < open; ++k)
      if (!std::isspace(static_cast<unsigned char>(buffer[k]))) {
        ++*malformed;
        break;
      }
    const std::size_t close = buffer.find('>', open);
    const std::size_t reopen = buffer.find('<', open + 1);
    if (reopen != std::string::npos && (close == std::string::npos || reopen < close)) {
      ++*malformed;  // a message never closed before the next began
      at = reopen;
      continue;
    }
    if (close == std::string::npos) {
      if (buffer.size() - open > kMaxSocketcandMessage) {
        ++*malformed;
        at = buffer.size();
      } else {
        at = open;  // wait for the rest
      }
      break;
    }
    if (close - open + 1 > kMaxSocketcandMessage) {
      ++*malformed;
    } else {
      out.push_back(buffer.substr(open, close - open + 1));
    }
    at = close + 1;
  }
  buffer.erase(0, at);
  return out;
}

namespace {

bool parse_hex_id(const std::string& t, CanFrame* f, std::string* error) {
  if (t.empty() || t.size() > 8) {
    *error = "bad CAN id '" + t + "'";
    return false;
  }
  std::uint32_t id = 0;
  for (char c : t) {
    int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (h < 0) {
      *error = "bad CAN id '" + t + "'";
      return false;
    }
    id = id << 4 | static_cast<std::uint32_t>(h);
  }
  f->extended = t.size() == 8;
  if ((f->extended && id > 0x1FFFFFFF) || (!f->extended && id > 0x7FF)) {
    *error = "CAN id '" + t + "' out of range";
    return false;
  }
  f->id = id;
  return true;
}

int hex_byte(const std::string& t) {
  if (t.empty() || t.size() > 2) return -1;
  int v = 0;
  for (char c : t) {
    int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (h < 0) return -1;
    v = v << 4 | h;
  }
  return v;
}

}  // namespace

bool parse_message(const std::string& message, SocketcandMessage* out, std::string* error) {
  *out = SocketcandMessage{};
  if (message.size() < 3 || message.front() != '<' || message.back() != '>') {
    *error = "not a message: '" + message + "'";
    return false;
  }
  std::istringstream in(message.substr(1, message.size() - 2));
  std::vector<std::string> w;
  for (std::string t; in >> t;) w.push_back(t);
  if (w.empty()) {
    *error = "empty message";
    return false;
  }
  out->word = w[0];
  using K = SocketcandMessage::Kind;
  if (w[0] == "hi" && w.size() == 1) out->kind = K::hi;
  else if (w[0] == "ok" && w.size() == 1) out->kind = K::ok;
  else if (w[0] == "rawmode" && w.size() == 1) out->kind = K::rawmode;
  else if (w[0] == "echo" && w.size() == 1) out->kind = K::echo;
  else if (w[0] == "error") {
    out->kind = K::error;
    for (std::size_t k = 1; k < w.size(); ++k) out->arg += (k > 1 ? " " : "") + w[k];
  } else if (w[0] == "open") {
    if (w.size() != 2) {
      *error = "open: one bus name expected";
      return false;
    }
    out->kind = K::open;
    out->arg = w[1];
  } else if (w[0] == "send") {
    // < send ID LEN B0 B1 ... >
    if (w.size() < 3) {
      *error = "send: id and length expected";
      return false;
    }
    if (!parse_hex_id(w[1], &out->frame, error)) return false;
    const int len = hex_byte(w[2]);
    if (len < 0 || len > 8 || w[2].size() != 1) {
      *error = "send: bad length '" + w[2] + "' (0..8)";
      return false;
    }
    if (static_cast<int>(w.size()) != 3 + len) {
      *error = "send: length " + w[2] + " but " + std::to_string(w.size() - 3) + " data bytes";
      return false;
    }
    out->frame.len = static_cast<std::uint8_t>(len);
    for (int k = 0; k < len; ++k) {
      const int b = hex_byte(w[static_cast<std::size_t>(3 + k)]);
      if (b < 0) {
        *error = "send: bad data byte '" + w[static_cast<std::size_t>(3 + k)] + "'";
        return false;
      }
      out->frame.data[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(b);
    }
    out->kind = K::send;
  } else if (w[0] == "frame") {
    // < frame ID SECS.USECS DATA >   (DATA may be absent for a frame of length 0)
    if (w.size() != 3 && w.size() != 4) {
      *error = "frame: id, time and data expected";
      return false;
    }
    if (!parse_hex_id(w[1], &out->frame, error)) return false;
    char* end = nullptr;
    out->seconds = std::strtod(w[2].c_str(), &end);
    if (end != w[2].c_str() + w[2].size() || !std::isfinite(out->seconds)) {
      *error = "frame: bad time '" + w[2] + "'";
      return false;
    }
    const std::string data = w.size() == 4 ? w[3] : "";
    if (data.size() % 2 || data.size() > 16) {
      *error = "frame: bad data '" + data + "'";
      return false;
    }
    for (std::size_t k = 0; k < data.size(); k += 2) {
      const int b = hex_byte(data.substr(k, 2));
      if (b < 0) {
        *error = "frame: bad data '" + data + "'";
        return false;
      }
      out->frame.data[k / 2] = static_cast<std::uint8_t>(b);
    }
    out->frame.len = static_cast<std::uint8_t>(data.size() / 2);
    out->kind = K::frame;
  } else {
    out->kind = K::other;
  }
  return true;
}

std::string format_frame(const CanFrame& f, double seconds) {
  char b[96];
  const std::string t = format_seconds_micros(seconds);
  int n = f.extended ? std::snprintf(b, sizeof b, "< frame %08X %s ", f.id, t.c_str())
                     : std::snprintf(b, sizeof b, "< frame %03X %s ", f.id, t.c_str());
  for (std::uint8_t k = 0; k < f.len && k < 8; ++k) n += std::snprintf(b + n, sizeof b - static_cast<std::size_t>(n), "%02X", f.data[k]);
  std::snprintf(b + n, sizeof b - static_cast<std::size_t>(n), " >");
  return b;
}

std::string format_send(const CanFrame& f) {
  char b[96];
  // Standard ids in three digits, as linux-can's socketcand writes them (a reader may take any
  // other length for a 29-bit id).
  int n = f.extended ? std::snprintf(b, sizeof b, "< send %08X %u", f.id, f.len) : std::snprintf(b, sizeof b, "< send %03X %u", f.id, f.len);
  for (std::uint8_t k = 0; k < f.len && k < 8; ++k) n += std::snprintf(b + n, sizeof b - static_cast<std::size_t>(n), " %02X", f.data[k]);
  std::snprintf(b + n, sizeof b - static_cast<std::size_t>(n), " >");
  return b;
}

}  // namespace zhil::can
