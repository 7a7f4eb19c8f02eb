#include "devices/modbus/modbus_failure.hpp"

#include <modbus/modbus.h>

#include <cerrno>
#include <cstdio>

namespace zhil::modbus {

const char* to_string(FailureKind k) {
  switch (k) {
    case FailureKind::none: return "ok";
    case FailureKind::timeout: return "timeout";
    case FailureKind::exception: return "exception";
    case FailureKind::connection_lost: return "connection lost";
    case FailureKind::framing: return "CRC/framing";
    case FailureKind::bad_reply: return "bad reply";
    case FailureKind::refused: return "refused";
    case FailureKind::frozen: return "frozen registers";
  }
  return "?";
}

std::string exception_name(int code) {
  static const char* const kNames[] = {"",
                                       "illegal function",
                                       "illegal data address",
                                       "illegal data value",
                                       "server device failure",
                                       "acknowledge",
                                       "server device busy",
                                       "negative acknowledge",
                                       "memory parity error",
                                       "",
                                       "gateway path unavailable",
                                       "gateway target failed to respond"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d %s", code,
                code > 0 && code < static_cast<int>(sizeof kNames / sizeof *kNames) ? kNames[code] : "unknown");
  return buf;
}

Failure classify_errno(int err) {
  Failure f;
  f.detail = modbus_strerror(err);
  if (err > MODBUS_ENOBASE && err <= EMBXGTAR) {
    f.kind = FailureKind::exception;
    f.exception_code = err - MODBUS_ENOBASE;
    f.detail = "exception " + exception_name(f.exception_code);
    return f;
  }
  switch (err) {
    case ETIMEDOUT: f.kind = FailureKind::timeout; break;
    case EMBBADCRC: f.kind = FailureKind::framing; break;
    case EMBBADDATA:
    case EMBBADEXC:
    case EMBUNKEXC:
    case EMBMDATA:
    case EMBBADSLAVE: f.kind = FailureKind::bad_reply; break;
    case ECONNRESET:
    case ECONNREFUSED:
    case ECONNABORTED:
    case EPIPE:
    case ENOTCONN:
    case EBADF:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ESHUTDOWN:
    case EIO:
    case ENOENT:
    case EINVAL: f.kind = FailureKind::connection_lost; break;
    default: f.kind = FailureKind::bad_reply; break;
  }
  return f;
}

}  // namespace zhil::modbus
