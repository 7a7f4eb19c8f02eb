#pragma once
// Frame maps as DBC files (Vector's CAN database format, the form every CAN tool reads), parsed
// here: no C++ DBC library is packaged for Debian, and the subset a pack protocol needs is small.
// Read: BO_ messages, SG_ signals (start bit, length, byte order @1 Intel / @0 Motorola, sign,
// factor, offset, [min|max], unit, receivers, multiplexor M and multiplexed mN), CM_ comments,
// BA_DEF_/BA_DEF_DEF_/BA_ attributes and VAL_ value descriptions. Skipped as a tool would: VERSION,
// NS_, BS_, BU_, VAL_TABLE_, EV_, SIG_GROUP_, BO_TX_BU_ and other sections zhil does not use.
// Refused: SIG_VALTYPE_ (float signals), messages over 8 bytes (CAN FD), overlapping signals.
//
// zhil's attributes (declared in the file with BA_DEF_, as DBC requires):
//   BA_ "GenMsgCycleTime" BO_ id ms;      cycle time of a cyclic message (the common Vector name)
//   BA_ "GenMsgTimeout" BO_ id ms;        a receiver treats the message as lost after this long
//   BA_ "GenSigInvalidValue" SG_ id sig raw;  the raw value that means "not available" (0xFFFF)
//   BA_ "GenMsgMinLength" BO_ id n;       shortest DLC accepted (variants that omit trailing fields)
// Errors throw ConfigError "file:line:column: ...".
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/time.hpp"

namespace zhil::can {

struct DbcSignal {
  std::string name;
  std::string where;  // file:line:column
  int start_bit = 0;
  int length = 1;
  bool little_endian = true;  // @1 (Intel); @0 Motorola (big-endian, start bit is the MSB)
  bool is_signed = false;
  double factor = 1.0, offset = 0.0;
  double min = 0.0, max = 0.0;  // [0|0]: no range given
  std::string unit;
  std::string comment;
  enum class Mux : std::uint8_t { none, multiplexor, multiplexed } mux = Mux::none;
  int mux_value = -1;  // multiplexed: present when the multiplexor's raw value equals this
  std::optional<std::uint64_t> invalid_raw;
  std::vector<std::pair<std::int64_t, std::string>> values;  // VAL_
  bool has_range() const { return min != 0.0 || max != 0.0; }
};

struct DbcMessage {
  std::uint32_t id = 0;
  bool extended = false;
  std::string name;
  std::string where;
  int dlc = 8;
  int min_length = -1;  // GenMsgMinLength; -1: the DLC
  std::string sender;
  std::string comment;
  Duration cycle{0};    // 0: not cyclic
  Duration timeout{0};  // 0: none given
  std::vector<DbcSignal> signals;
  const DbcSignal* find(const std::string& signal) const;
  const DbcSignal* multiplexor() const;
  int shortest() const { return min_length >= 0 ? min_length : dlc; }
};

struct Dbc {
  std::string file;
  std::string comment;  // the file's own CM_ "..."; (its sources)
  std::vector<DbcMessage> messages;
  const DbcMessage* find(std::uint32_t id, bool extended) const;
  const DbcMessage* find(const std::string& name) const;
  // "Message.Signal" -> (message, signal), or nulls.
  std::pair<const DbcMessage*, const DbcSignal*> find_signal(const std::string& dotted) const;
};

// Parses DBC text; `file` names it in errors.
Dbc parse_dbc(const std::string& text, const std::string& file);
// Reads (a regular file, at most 4 MiB) and parses.
Dbc load_dbc(const std::string& path);
// Cached by path, as the register maps are.
std::shared_ptr<const Dbc> cached_dbc(const std::string& path);

}  // namespace zhil::can
