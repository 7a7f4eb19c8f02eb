#pragma once
// Modbus TCP framing (the MBAP header and the PDUs of the functions zhil's client uses), written
// here because libmodbus's client frames only inside its blocking calls (see modbus_transport.hpp).
// A reply is checked against its request before anything in it is believed: transaction id,
// protocol, length, unit, function code (or the exception it carries), byte count and, for writes,
// the echoed address and count. Whatever fails is classified (bad reply, framing, exception N).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "devices/modbus/modbus_failure.hpp"
#include "devices/modbus/modbus_transport.hpp"

namespace zhil::modbus {

constexpr std::size_t kMbapHeader = 7;     // transaction, protocol, length, unit
constexpr std::size_t kMaxTcpAdu = 260;

std::vector<std::uint8_t> build_tcp_request(const Request& r, std::uint16_t transaction);
// The length field of a received header says how many bytes follow it; 0 if the header cannot
// begin a reply (wrong protocol, impossible length): the stream is out of step.
std::size_t tcp_body_length(const std::uint8_t* header);
// Checks a whole reply ADU (header and body) against the request it answers.
Failure decode_tcp_reply(const Request& r, std::uint16_t transaction, const std::uint8_t* adu, std::size_t n,
                         std::vector<std::uint16_t>* registers);

}  // namespace zhil::modbus
