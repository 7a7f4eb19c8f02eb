#pragma once
// Every way a Modbus request can fail, classified once, in the transport, so that what is recorded
// and counted says what happened: no reply in time, an exception code from the device, a lost
// connection, a damaged frame (CRC, length) or a reply that does not answer the request (wrong
// function code, transaction id, unit, register count), or a device whose registers stopped
// changing (its heartbeat counter stands still: frozen).
#include <cstdint>
#include <string>

namespace zhil::modbus {

enum class FailureKind : std::uint8_t { none, timeout, exception, connection_lost, framing, bad_reply, refused, frozen };
const char* to_string(FailureKind k);

struct Failure {
  FailureKind kind = FailureKind::none;
  int exception_code = 0;  // kind exception: 1 illegal function, 2 illegal address, 3 illegal value, ...
  std::string detail;      // the library's words
};

// From libmodbus's errno after a failed call.
Failure classify_errno(int err);
std::string exception_name(int code);  // "02 illegal data address"

}  // namespace zhil::modbus
