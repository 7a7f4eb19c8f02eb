// libFuzzer target: a DBC file (fixtures/can/*.dbc) through the parser and, for what parses, every
// signal of every message decoded from and encoded into frames built from the input's own bytes.
// Any input must parse or be refused with a ConfigError naming the file and line; decoding never
// reads past the frame, encoding never wraps (checked by decoding what was encoded).
#include <cmath>
#include <cstdint>
#include <string>

#include "devices/can/can_codec.hpp"
#include "devices/can/dbc.hpp"
#include "harness/config/config_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  zhil::can::Dbc dbc;
  try {
    dbc = zhil::can::parse_dbc(text, "fuzz.dbc");
  } catch (const zhil::ConfigError& e) {
    if (std::string(e.what()).rfind("fuzz.dbc:", 0) != 0) __builtin_trap();  // names no file:line
    return 0;
  }
  for (const auto& m : dbc.messages) {
    for (std::size_t len = 0; len <= 8; ++len) {
      zhil::can::CanFrame f = zhil::can::blank_frame(m);
      f.len = static_cast<std::uint8_t>(len);
      for (std::size_t k = 0; k < len; ++k) f.data[k] = size ? data[(k * 7 + len) % size] : 0;
      for (const auto& s : m.signals) {
        zhil::can::SignalValue v;
        if (zhil::can::decode_signal(m, s, f, &v) && v.present && s.mux == zhil::can::DbcSignal::Mux::none &&
            static_cast<int>(len) >= m.dlc) {
          // What decoded encodes back to the same value (or is refused, never wrapped).
          zhil::can::CanFrame g = zhil::can::blank_frame(m);
          if (zhil::can::encode_signal(s, v.value, g)) {
            zhil::can::SignalValue back;
            if (zhil::can::decode_signal(m, s, g, &back) && back.present &&
                std::fabs(back.value - v.value) > std::fabs(s.factor) * 0.5 + 1e-9 * std::fabs(v.value))
              __builtin_trap();
          }
        }
      }
    }
  }
  return 0;
}
