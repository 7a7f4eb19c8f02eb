#pragma once
// The checks a server makes on a request before it answers, on the PDU alone (function code and
// data, without the TCP or RTU header), shared by the TCP and RTU servers: which registers a read
// or write touches, whether the backend has them and accepts the values. Returns 0 (answer it),
// or the exception code to answer with.
#include <cstddef>
#include <cstdint>

#include "devices/modbus/register_backend.hpp"

namespace zhil::modbus {

struct PduSummary {
  int function = 0;
  int read_address = -1, read_count = 0;
  int write_address = -1, write_count = 0;
  const std::uint8_t* write_values = nullptr;  // big-endian register values in the PDU
};

// Parses a PDU (function code first). Returns 0 if well-formed, else an exception code (3 for a bad
// count or byte count, 1 for a function the servers do not implement).
int summarise_pdu(const std::uint8_t* pdu, std::size_t length, PduSummary* out);
// summarise_pdu + the backend's checks for `unit`.
int check_request(RegisterBackend& backend, int unit, const std::uint8_t* pdu, std::size_t length, PduSummary* out);

}  // namespace zhil::modbus
