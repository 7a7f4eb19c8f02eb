#include "devices/modbus/register_value.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace zhil::modbus {

bool parse_register_type(const std::string& n, RegisterType* t, int* words) {
  struct Name {
    const char* name;
    RegisterType type;
  };
  static constexpr Name kNames[] = {
      {"u16", RegisterType::u16},       {"uint16", RegisterType::u16},     {"enum16", RegisterType::u16},
      {"bitfield16", RegisterType::u16}, {"count", RegisterType::u16},     {"pad", RegisterType::u16},
      {"s16", RegisterType::s16},       {"int16", RegisterType::s16},      {"u32", RegisterType::u32},
      {"uint32", RegisterType::u32},    {"enum32", RegisterType::u32},     {"bitfield32", RegisterType::u32},
      {"acc32", RegisterType::u32},     {"ipaddr", RegisterType::u32},     {"s32", RegisterType::s32},
      {"int32", RegisterType::s32},     {"u64", RegisterType::u64},        {"uint64", RegisterType::u64},
      {"acc64", RegisterType::u64},     {"bitfield64", RegisterType::u64}, {"s64", RegisterType::s64},
      {"int64", RegisterType::s64},     {"f32", RegisterType::f32},        {"float32", RegisterType::f32},
      {"string", RegisterType::string}, {"sunssf", RegisterType::sunssf},
  };
  for (const Name& k : kNames)
    if (n == k.name) {
      *t = k.type;
      *words = fixed_words(k.type);
      return true;
    }
  return false;
}

const char* to_string(RegisterType t) {
  switch (t) {
    case RegisterType::u16: return "u16";
    case RegisterType::s16: return "s16";
    case RegisterType::u32: return "u32";
    case RegisterType::s32: return "s32";
    case RegisterType::u64: return "u64";
    case RegisterType::s64: return "s64";
    case RegisterType::f32: return "f32";
    case RegisterType::string: return "string";
    case RegisterType::sunssf: return "sunssf";
  }
  return "?";
}

int fixed_words(RegisterType t) {
  switch (t) {
    case RegisterType::u16:
    case RegisterType::s16:
    case RegisterType::sunssf: return 1;
    case RegisterType::u32:
    case RegisterType::s32:
    case RegisterType::f32: return 2;
    case RegisterType::u64:
    case RegisterType::s64: return 4;
    case RegisterType::string: return 0;
  }
  return 0;
}

namespace {

// The words as one integer, most significant first whatever the order on the wire.
std::uint64_t gather(const RegisterFormat& f, std::span<const std::uint16_t> regs) {
  std::uint64_t v = 0;
  for (int k = 0; k < f.words; ++k) {
    const std::size_t i = f.order == WordOrder::big ? k : f.words - 1 - k;
    v = (v << 16) | regs[i];
  }
  return v;
}

void scatter(const RegisterFormat& f, std::uint64_t v, std::span<std::uint16_t> regs) {
  for (int k = f.words - 1; k >= 0; --k) {
    const std::size_t i = f.order == WordOrder::big ? k : f.words - 1 - k;
    regs[i] = static_cast<std::uint16_t>(v & 0xFFFF);
    v >>= 16;
  }
}

}  // namespace

std::optional<double> decode_raw(const RegisterFormat& f, std::span<const std::uint16_t> regs) {
  const std::uint64_t v = gather(f, regs);
  const bool ni = f.not_implemented_patterns;
  switch (f.type) {
    case RegisterType::u16:
      if (ni && v == 0xFFFF) return std::nullopt;
      return static_cast<double>(v);
    case RegisterType::s16:
    case RegisterType::sunssf:
      if (ni && v == 0x8000) return std::nullopt;
      return static_cast<double>(static_cast<std::int16_t>(v));
    case RegisterType::u32:
      if (ni && v == 0xFFFFFFFFu) return std::nullopt;
      return static_cast<double>(v);
    case RegisterType::s32:
      if (ni && v == 0x80000000u) return std::nullopt;
      return static_cast<double>(static_cast<std::int32_t>(static_cast<std::uint32_t>(v)));
    case RegisterType::u64:
      if (ni && v == 0xFFFFFFFFFFFFFFFFull) return std::nullopt;
      return static_cast<double>(v);
    case RegisterType::s64:
      if (ni && v == 0x8000000000000000ull) return std::nullopt;
      return static_cast<double>(static_cast<std::int64_t>(v));
    case RegisterType::f32: {
      const float x = std::bit_cast<float>(static_cast<std::uint32_t>(v));
      if (std::isnan(x)) return std::nullopt;  // SunSpec's float not-implemented is NaN (0x7FC00000)
      return static_cast<double>(x);
    }
    case RegisterType::string: return std::nullopt;
  }
  return std::nullopt;
}

std::string decode_string(std::span<const std::uint16_t> regs) {
  std::string s;
  for (std::uint16_t r : regs) {
    s.push_back(static_cast<char>(r >> 8));
    s.push_back(static_cast<char>(r & 0xFF));
  }
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return s;
}

Status encode_raw(const RegisterFormat& f, double raw, std::span<std::uint16_t> regs) {
  if (!std::isfinite(raw)) return Status::error("value is not a finite number");
  auto fits = [&](double lo, double hi) -> Status {
    if (raw < lo || raw > hi)
      return Status::error("raw value " + std::to_string(raw) + " does not fit a " + to_string(f.type) + " (" +
                           std::to_string(lo) + " to " + std::to_string(hi) + ")");
    return Status::ok();
  };
  const double r = std::nearbyint(raw);
  // The top of each range is the not-implemented pattern for unsigned types and the bottom for
  // signed ones: a real value never encodes as "absent".
  const double top_u = f.not_implemented_patterns ? 1 : 0;
  switch (f.type) {
    case RegisterType::u16:
      if (auto s = fits(0, 65535 - top_u); !s) return s;
      scatter(f, static_cast<std::uint64_t>(r), regs);
      return Status::ok();
    case RegisterType::s16:
    case RegisterType::sunssf:
      if (auto s = fits(-32768 + top_u, 32767); !s) return s;
      scatter(f, static_cast<std::uint16_t>(static_cast<std::int16_t>(r)), regs);
      return Status::ok();
    case RegisterType::u32:
      if (auto s = fits(0, 4294967295.0 - top_u); !s) return s;
      scatter(f, static_cast<std::uint64_t>(r), regs);
      return Status::ok();
    case RegisterType::s32:
      if (auto s = fits(-2147483648.0 + top_u, 2147483647.0); !s) return s;
      scatter(f, static_cast<std::uint32_t>(static_cast<std::int32_t>(r)), regs);
      return Status::ok();
    case RegisterType::u64:
      // 2^64 is not a double below it; a double holds integers exactly only to 2^53 anyway.
      if (auto s = fits(0, 9007199254740992.0); !s) return s;
      scatter(f, static_cast<std::uint64_t>(r), regs);
      return Status::ok();
    case RegisterType::s64:
      if (auto s = fits(-9007199254740992.0, 9007199254740992.0); !s) return s;
      scatter(f, static_cast<std::uint64_t>(static_cast<std::int64_t>(r)), regs);
      return Status::ok();
    case RegisterType::f32:
      if (auto s = fits(-std::numeric_limits<float>::max(), std::numeric_limits<float>::max()); !s) return s;
      scatter(f, std::bit_cast<std::uint32_t>(static_cast<float>(raw)), regs);
      return Status::ok();
    case RegisterType::string: return Status::error("a string register holds no number");
  }
  return Status::error("unknown register type");
}

void encode_string(const std::string& text, std::span<std::uint16_t> regs) {
  for (std::size_t k = 0; k < regs.size(); ++k) {
    const unsigned char hi = 2 * k < text.size() ? static_cast<unsigned char>(text[2 * k]) : 0;
    const unsigned char lo = 2 * k + 1 < text.size() ? static_cast<unsigned char>(text[2 * k + 1]) : 0;
    regs[k] = static_cast<std::uint16_t>(hi << 8 | lo);
  }
}

void encode_not_implemented(const RegisterFormat& f, std::span<std::uint16_t> regs) {
  switch (f.type) {
    case RegisterType::u16:
    case RegisterType::u32:
    case RegisterType::u64: scatter(f, ~0ull, regs); return;
    case RegisterType::s16:
    case RegisterType::sunssf:
    case RegisterType::s32:
    case RegisterType::s64: scatter(f, 1ull << (16 * f.words - 1), regs); return;
    case RegisterType::f32: scatter(f, 0x7FC00000u, regs); return;
    case RegisterType::string: encode_string("", regs); return;
  }
}

}  // namespace zhil::modbus
