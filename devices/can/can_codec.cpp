#include "devices/can/can_codec.hpp"

#include <cmath>
#include <cstdio>

namespace zhil::can {

namespace {
// The frame bit (byte * 8 + bit in byte) of the signal's k-th bit counted from its LSB.
int bit_position(const DbcSignal& s, int k) {
  if (s.little_endian) return s.start_bit + k;
  // Motorola: start bit is the MSB; walk from it towards the LSB, then index from the LSB end.
  int pos = s.start_bit;
  for (int n = 0; n < s.length - 1 - k; ++n) pos = pos % 8 == 0 ? pos + 15 : pos - 1;
  return pos;
}

std::string format_value(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}
}  // namespace

bool extract_raw(const DbcSignal& s, const CanFrame& f, std::uint64_t* raw) {
  std::uint64_t v = 0;
  for (int k = 0; k < s.length; ++k) {
    const int pos = bit_position(s, k);
    if (pos / 8 >= f.len) return false;
    if (f.data[static_cast<std::size_t>(pos / 8)] >> (pos % 8) & 1) v |= 1ULL << k;
  }
  *raw = v;
  return true;
}

void insert_raw(const DbcSignal& s, std::uint64_t raw, CanFrame& f) {
  for (int k = 0; k < s.length; ++k) {
    const int pos = bit_position(s, k);
    auto& byte = f.data[static_cast<std::size_t>(pos / 8)];
    const auto mask = static_cast<std::uint8_t>(1u << (pos % 8));
    byte = static_cast<std::uint8_t>((raw >> k & 1) ? byte | mask : byte & ~mask);
  }
}

Status decode_signal(const DbcMessage& m, const DbcSignal& s, const CanFrame& f, SignalValue* out) {
  *out = SignalValue{};
  if (s.mux == DbcSignal::Mux::multiplexed) {
    const DbcSignal* mux = m.multiplexor();
    std::uint64_t sel = 0;
    if (!mux || !extract_raw(*mux, f, &sel) || static_cast<std::int64_t>(sel) != s.mux_value) return Status::ok();
  }
  std::uint64_t raw = 0;
  if (!extract_raw(s, f, &raw)) return Status::ok();
  if (s.invalid_raw && raw == *s.invalid_raw) return Status::ok();
  double r;
  if (s.is_signed && s.length < 64 && (raw >> (s.length - 1) & 1)) {
    r = static_cast<double>(static_cast<std::int64_t>(raw | ~((1ULL << s.length) - 1)));
  } else if (s.is_signed) {
    r = static_cast<double>(static_cast<std::int64_t>(raw));
  } else {
    r = static_cast<double>(raw);
  }
  const double v = r * s.factor + s.offset;
  // Half a step of tolerance: a range written in physical units may not be a whole number of steps.
  const double tol = std::fabs(s.factor) / 2;
  if (s.has_range() && (v < s.min - tol || v > s.max + tol))
    return Status::error("signal " + m.name + "." + s.name + " = " + format_value(v) + " " + s.unit + " is outside [" +
                         format_value(s.min) + ", " + format_value(s.max) + "]");
  out->present = true;
  out->value = v;
  return Status::ok();
}

Status encode_signal(const DbcSignal& s, double value, CanFrame& f) {
  if (!std::isfinite(value)) return Status::error("signal " + s.name + ": no value (" + format_value(value) + ")");
  const double tol = std::fabs(s.factor) / 2;
  if (s.has_range() && (value < s.min - tol || value > s.max + tol))
    return Status::error("signal " + s.name + ": " + format_value(value) + " " + s.unit + " is outside [" + format_value(s.min) +
                         ", " + format_value(s.max) + "]");
  const double r = std::round((value - s.offset) / s.factor);
  // The raw value must fit its bits: [lo, hi_excl). Exclusive, because 2^64 - 1 is not a double.
  const double lo = s.is_signed ? -std::ldexp(1.0, s.length - 1) : 0.0;
  const double hi_excl = s.is_signed ? std::ldexp(1.0, s.length - 1) : std::ldexp(1.0, s.length);
  // What the receiver will decode must be inside the range too (rounding may step past max).
  const double decoded = r * s.factor + s.offset;
  if (s.has_range() && (decoded < s.min - tol || decoded > s.max + tol))
    return Status::error("signal " + s.name + ": " + format_value(value) + " " + s.unit + " is outside [" + format_value(s.min) +
                         ", " + format_value(s.max) + "] once rounded to its resolution");
  if (!(r >= lo && r < hi_excl))
    return Status::error("signal " + s.name + ": " + format_value(value) + " " + s.unit + " does not fit its " +
                         std::to_string(s.length) + " bits (raw " + format_value(r) + ")");
  std::uint64_t raw = s.is_signed ? static_cast<std::uint64_t>(static_cast<std::int64_t>(r)) : static_cast<std::uint64_t>(r);
  if (s.length < 64) raw &= (1ULL << s.length) - 1;
  if (s.invalid_raw && raw == *s.invalid_raw)
    return Status::error("signal " + s.name + ": " + format_value(value) + " " + s.unit + " encodes as its invalid value");
  insert_raw(s, raw, f);
  return Status::ok();
}

Status encode_invalid(const DbcSignal& s, CanFrame& f) {
  if (!s.invalid_raw) return Status::error("signal " + s.name + " has no invalid value (GenSigInvalidValue)");
  insert_raw(s, *s.invalid_raw, f);
  return Status::ok();
}

CanFrame blank_frame(const DbcMessage& m) {
  CanFrame f;
  f.id = m.id;
  f.extended = m.extended;
  f.len = static_cast<std::uint8_t>(m.dlc);
  return f;
}

}  // namespace zhil::can
