// libFuzzer target: what arrives from a Modbus device or client. The input is read as a request the
// client made (its first 7 bytes: function, unit, address, count, transaction) and the reply bytes
// that came back; the reply is checked against the request (tcp_framing), its registers decoded by
// the shipped maps (every entry of the zinc-bromine map and of the SunSpec battery map on its
// layout) and fed to SunSpec discovery; the same bytes are parsed as a request by the servers'
// checks (TCP PDU, RTU framing). Everything must end in a value or a classified failure.
#include <cstdint>
#include <string>
#include <vector>

#include "devices/modbus/modbus_rtu_server.hpp"
#include "devices/modbus/register_map.hpp"
#include "devices/modbus/request_checks.hpp"
#include "devices/modbus/sunspec_layout.hpp"
#include "devices/modbus/tcp_framing.hpp"

namespace {
using namespace zhil::modbus;

struct Maps {
  RegisterMap zbm, battery;
  SunSpecLayout layout;
  Maps() {
    zbm = load_register_map(std::string(ZHIL_SOURCE_DIR) + "/fixtures/modbus/zinc-bromine-bms.yaml");
    const RegisterMap b = load_register_map(std::string(ZHIL_SOURCE_DIR) + "/fixtures/modbus/sunspec-battery.yaml");
    layout = lay_out_models(*b.models, {1, 802, 713, 64901});
    if (!resolve_map(b, layout, &battery)) __builtin_trap();
  }
};

const Maps& maps() {
  static Maps m;
  return m;
}

void decode_all(const RegisterMap& map, const RegisterWindow& w) {
  for (const MapEntry& e : map.entries) {
    if (!e.resolved()) continue;
    Decoded d;
    (void)decode_entry(e, w, sf_power_of(e, w), percent_base_of(map, e, w), &d);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 7 || size > 600) return 0;
  static const Function kFunctions[] = {Function::read_holding, Function::read_input, Function::write_single,
                                        Function::write_multiple};
  Request r;
  r.function = kFunctions[data[0] % 4];
  r.unit = data[1];
  r.address = data[2] << 8 | data[3];
  r.count = 1 + data[4] % 125;
  if (r.function == Function::write_single) r.values = {static_cast<std::uint16_t>(data[5])};
  if (r.function == Function::write_multiple) r.values.assign(static_cast<std::size_t>(1 + data[5] % 123), 7);
  const std::uint16_t transaction = static_cast<std::uint16_t>(data[5] << 8 | data[6]);
  const std::uint8_t* reply = data + 7;
  const std::size_t n = size - 7;

  std::vector<std::uint16_t> regs;
  if (n >= kMbapHeader) (void)tcp_body_length(reply);
  const Failure f = decode_tcp_reply(r, transaction, reply, n, &regs);
  if (f.kind == FailureKind::none && (r.function == Function::read_holding || r.function == Function::read_input)) {
    if (regs.size() != static_cast<std::size_t>(r.count)) __builtin_trap();
    // The registers as the maps read them.
    RegisterWindow zw{0x9001, std::vector<std::uint16_t>(0x34, 0)};
    for (std::size_t k = 0; k < regs.size() && k < zw.regs.size(); ++k) zw.regs[k] = regs[k];
    decode_all(maps().zbm, zw);
    const SunSpecLayout& l = maps().layout;
    RegisterWindow sw{l.base, std::vector<std::uint16_t>(static_cast<std::size_t>(l.end + 2 - l.base), 0)};
    for (std::size_t k = 0; k < sw.regs.size(); ++k) sw.regs[k] = regs[k % regs.size()];
    decode_all(maps().battery, sw);
    // Discovery fed these registers as whatever it asks for.
    SunSpecDiscovery d;
    std::size_t at = 0;
    for (int steps = 0; steps < 600; ++steps) {
      auto next = d.next();
      if (!next) break;
      std::vector<std::uint16_t> part;
      for (int k = 0; k < next->count; ++k) part.push_back(regs[(at++) % regs.size()]);
      d.feed(false, part);
    }
  }
  // The same bytes as a request to a server.
  PduSummary s;
  (void)summarise_pdu(data, size, &s);
  const int need = rtu_request_length(data, size);
  if (need > 0 && static_cast<std::size_t>(need) <= size) (void)modbus_crc16(data, static_cast<std::size_t>(need) - 2);
  return 0;
}
