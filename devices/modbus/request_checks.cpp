#include "devices/modbus/request_checks.hpp"

#include <vector>

namespace zhil::modbus {

namespace {
int u16(const std::uint8_t* p) { return p[0] << 8 | p[1]; }
}  // namespace

int summarise_pdu(const std::uint8_t* pdu, std::size_t n, PduSummary* s) {
  *s = PduSummary{};
  if (n < 1) return 3;
  s->function = pdu[0];
  switch (s->function) {
    case 3:
    case 4:
      if (n != 5) return 3;
      s->read_address = u16(pdu + 1);
      s->read_count = u16(pdu + 3);
      if (s->read_count < 1 || s->read_count > 125) return 3;
      return 0;
    case 6:
      if (n != 5) return 3;
      s->write_address = u16(pdu + 1);
      s->write_count = 1;
      s->write_values = pdu + 3;
      return 0;
    case 16:
      if (n < 6) return 3;
      s->write_address = u16(pdu + 1);
      s->write_count = u16(pdu + 3);
      if (s->write_count < 1 || s->write_count > 123 || pdu[5] != 2 * s->write_count || n != 6u + pdu[5]) return 3;
      s->write_values = pdu + 6;
      return 0;
    case 23:
      if (n < 10) return 3;
      s->read_address = u16(pdu + 1);
      s->read_count = u16(pdu + 3);
      s->write_address = u16(pdu + 5);
      s->write_count = u16(pdu + 7);
      if (s->read_count < 1 || s->read_count > 125 || s->write_count < 1 || s->write_count > 121 ||
          pdu[9] != 2 * s->write_count || n != 10u + pdu[9])
        return 3;
      s->write_values = pdu + 10;
      return 0;
    default: return 1;  // coils, discrete inputs, diagnostics: registers only here
  }
}

int check_request(RegisterBackend& backend, int unit, const std::uint8_t* pdu, std::size_t n, PduSummary* s) {
  if (int code = summarise_pdu(pdu, n, s)) return code;
  if (s->read_count > 0)
    if (int code = backend.check_read(unit, s->read_address, s->read_count)) return code;
  if (s->write_count > 0) {
    if (s->write_address + s->write_count > 65536) return 2;
    std::vector<std::uint16_t> v(static_cast<std::size_t>(s->write_count));
    for (int k = 0; k < s->write_count; ++k) v[static_cast<std::size_t>(k)] = static_cast<std::uint16_t>(u16(s->write_values + 2 * k));
    if (int code = backend.check_write(unit, s->write_address, v.data(), s->write_count)) return code;
  }
  return 0;
}

}  // namespace zhil::modbus
