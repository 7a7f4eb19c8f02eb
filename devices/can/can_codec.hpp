#pragma once
// Table-driven encoding and decoding of DBC signals: every layout comes from the DBC file.
// Intel (@1): the start bit is the least significant bit, bits counted up through the bytes.
// Motorola (@0): the start bit is the most significant bit, counted in DBC's "sawtooth" order
// (down within a byte, then on to the next byte's bit 7).
#include <cstdint>

#include "devices/can/can_frame.hpp"
#include "devices/can/dbc.hpp"
#include "harness/status.hpp"

namespace zhil::can {

// Raw bits of the signal from the frame's data; false when the frame is too short to hold them
// (a variant that omits trailing fields).
bool extract_raw(const DbcSignal& s, const CanFrame& f, std::uint64_t* raw);
// Writes the raw bits into the frame's data (the frame's len is not changed).
void insert_raw(const DbcSignal& s, std::uint64_t raw, CanFrame& f);

struct SignalValue {
  bool present = false;  // false: not in this frame (too short, another multiplexer value) or invalid
  double value = 0;
};
// The signal's physical value (raw * factor + offset, signed raw sign-extended). Absent: too short,
// its invalid raw value (GenSigInvalidValue), or a multiplexed signal of another multiplexer value.
// An error: a value outside the signal's [min|max] (a corrupted or misconfigured frame).
Status decode_signal(const DbcMessage& m, const DbcSignal& s, const CanFrame& f, SignalValue* out);

// Encodes `value` into the frame. Never wraps: a value outside [min|max], or whose raw value does
// not fit the signal's bits, is refused and nothing is written.
Status encode_signal(const DbcSignal& s, double value, CanFrame& f);
// The signal's invalid raw value written (a simulator that has no value for it).
Status encode_invalid(const DbcSignal& s, CanFrame& f);

// A frame of the message, id and length set, every byte 0 (then signals are encoded into it).
CanFrame blank_frame(const DbcMessage& m);

}  // namespace zhil::can
