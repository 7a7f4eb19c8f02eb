#pragma once
// How a value sits in 16-bit Modbus registers: its type (u16 ... f32, string), the order of its
// words, and the "not implemented" patterns SunSpec reserves. Decoding never guesses: a raw value
// that is a not-implemented pattern decodes as absent, and an encoder refuses a value its type
// cannot hold rather than wrap it.
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "harness/status.hpp"

namespace zhil::modbus {

enum class RegisterType : std::uint8_t { u16, s16, u32, s32, u64, s64, f32, string, sunssf };
enum class WordOrder : std::uint8_t { big, little };  // big: most significant word first (SunSpec)

// "u16", "uint16", "enum16", "bitfield32", "acc32", "int32", "float32", "string", "sunssf", ...;
// false for a name it does not know.
bool parse_register_type(const std::string& name, RegisterType* type, int* words_if_fixed);
const char* to_string(RegisterType t);
int fixed_words(RegisterType t);  // 0 for string (its length is its own)

struct RegisterFormat {
  RegisterType type = RegisterType::u16;
  int words = 1;
  WordOrder order = WordOrder::big;
  // SunSpec's not-implemented patterns (0xFFFF, 0x8000, ...) read as "absent".
  bool not_implemented_patterns = true;
};

// The raw integer (or float) in the registers, before scaling; nullopt for a not-implemented
// pattern. `regs` must hold format.words registers.
std::optional<double> decode_raw(const RegisterFormat& format, std::span<const std::uint16_t> regs);
// The text of a string register run (NULs trimmed; all-NUL: empty).
std::string decode_string(std::span<const std::uint16_t> regs);

// Writes `raw` (already scaled, rounded by the caller) into regs; error if the type cannot hold it.
Status encode_raw(const RegisterFormat& format, double raw, std::span<std::uint16_t> regs);
void encode_string(const std::string& text, std::span<std::uint16_t> regs);
// The not-implemented pattern of a type (what a server answers for a point it lacks).
void encode_not_implemented(const RegisterFormat& format, std::span<std::uint16_t> regs);

}  // namespace zhil::modbus
