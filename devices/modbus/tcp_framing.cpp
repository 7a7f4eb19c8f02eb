#include "devices/modbus/tcp_framing.hpp"

#include <string>

namespace zhil::modbus {

namespace {
void put16(std::vector<std::uint8_t>& b, int v) {
  b.push_back(static_cast<std::uint8_t>((v >> 8) & 0xFF));
  b.push_back(static_cast<std::uint8_t>(v & 0xFF));
}
int get16(const std::uint8_t* p) { return p[0] << 8 | p[1]; }

Failure bad(FailureKind k, std::string what) {
  Failure f;
  f.kind = k;
  f.detail = std::move(what);
  return f;
}
}  // namespace

std::vector<std::uint8_t> build_tcp_request(const Request& r, std::uint16_t transaction) {
  std::vector<std::uint8_t> b;
  b.reserve(kMaxTcpAdu);
  put16(b, transaction);
  put16(b, 0);
  put16(b, 0);  // length, set below
  b.push_back(static_cast<std::uint8_t>(r.unit));
  b.push_back(static_cast<std::uint8_t>(r.function));
  put16(b, r.address);
  switch (r.function) {
    case Function::read_holding:
    case Function::read_input: put16(b, r.count); break;
    case Function::write_single: put16(b, r.values.at(0)); break;
    case Function::write_multiple:
      put16(b, static_cast<int>(r.values.size()));
      b.push_back(static_cast<std::uint8_t>(2 * r.values.size()));
      for (std::uint16_t v : r.values) put16(b, v);
      break;
  }
  const std::size_t length = b.size() - 6;
  b[4] = static_cast<std::uint8_t>(length >> 8);
  b[5] = static_cast<std::uint8_t>(length & 0xFF);
  return b;
}

std::size_t tcp_body_length(const std::uint8_t* h) {
  if (get16(h + 2) != 0) return 0;
  const std::size_t length = static_cast<std::size_t>(get16(h + 4));
  // The length counts the unit id (in the header) and the PDU: at least a function code and one
  // byte, at most what fits a 260-byte ADU.
  if (length < 3 || length > kMaxTcpAdu - 6) return 0;
  return length - 1;
}

Failure decode_tcp_reply(const Request& r, std::uint16_t transaction, const std::uint8_t* a, std::size_t n,
                         std::vector<std::uint16_t>* regs) {
  if (n < kMbapHeader + 2) return bad(FailureKind::framing, "reply of " + std::to_string(n) + " bytes is too short");
  if (get16(a) != transaction)
    return bad(FailureKind::bad_reply, "reply to transaction " + std::to_string(get16(a)) + ", expected " + std::to_string(transaction));
  if (get16(a + 2) != 0) return bad(FailureKind::framing, "protocol id " + std::to_string(get16(a + 2)) + " is not Modbus");
  if (static_cast<std::size_t>(get16(a + 4)) != n - 6)
    return bad(FailureKind::framing, "length field " + std::to_string(get16(a + 4)) + " does not match the " +
                                         std::to_string(n - 6) + " bytes that follow it");
  if (a[6] != r.unit) return bad(FailureKind::bad_reply, "reply from unit " + std::to_string(a[6]) + ", asked unit " + std::to_string(r.unit));
  const int fc = a[7];
  const int want = static_cast<int>(r.function);
  const std::uint8_t* pdu = a + 7;
  const std::size_t pn = n - 7;
  if (fc == (want | 0x80)) {
    if (pn != 2) return bad(FailureKind::framing, "exception reply of " + std::to_string(pn) + " bytes, expected 2");
    Failure f;
    f.kind = FailureKind::exception;
    f.exception_code = pdu[1];
    f.detail = "exception " + exception_name(pdu[1]);
    return f;
  }
  if (fc != want)
    return bad(FailureKind::bad_reply, "reply with function code " + std::to_string(fc) + " to a request with " + std::to_string(want));
  switch (r.function) {
    case Function::read_holding:
    case Function::read_input: {
      if (pn < 2) return bad(FailureKind::framing, "read reply without a byte count");
      const std::size_t bytes = pdu[1];
      if (bytes != 2u * static_cast<std::size_t>(r.count))
        return bad(FailureKind::bad_reply, "reply holds " + std::to_string(bytes / 2) + " registers, " + std::to_string(r.count) + " asked for");
      if (pn != 2 + bytes) return bad(FailureKind::framing, "byte count " + std::to_string(bytes) + " does not match the reply's length");
      regs->resize(static_cast<std::size_t>(r.count));
      for (int k = 0; k < r.count; ++k) (*regs)[static_cast<std::size_t>(k)] = static_cast<std::uint16_t>(get16(pdu + 2 + 2 * k));
      return {};
    }
    case Function::write_single:
      if (pn != 5) return bad(FailureKind::framing, "write reply of " + std::to_string(pn) + " bytes, expected 5");
      if (get16(pdu + 1) != r.address || get16(pdu + 3) != r.values.at(0))
        return bad(FailureKind::bad_reply, "write reply echoes register " + std::to_string(get16(pdu + 1)) + " = " +
                                               std::to_string(get16(pdu + 3)) + ", not what was written");
      return {};
    case Function::write_multiple:
      if (pn != 5) return bad(FailureKind::framing, "write reply of " + std::to_string(pn) + " bytes, expected 5");
      if (get16(pdu + 1) != r.address || get16(pdu + 3) != static_cast<int>(r.values.size()))
        return bad(FailureKind::bad_reply, "write reply echoes registers " + std::to_string(get16(pdu + 1)) + "+" +
                                               std::to_string(get16(pdu + 3)) + ", not what was written");
      return {};
  }
  return bad(FailureKind::bad_reply, "unknown function");
}

}  // namespace zhil::modbus
