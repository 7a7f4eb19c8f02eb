#pragma once
// A register map as data (fixtures/modbus/*.yaml): which registers a device has, how each is
// encoded and scaled, whether it may be written and inside what range, and which harness signal it
// feeds (a measurement), is fed from (a command, or a limit the safety envelope sets) or is written
// once when the device is activated. Two kinds of entry:
//   - a register at an address: `address`, `type`, `scale`, ... (the zinc-bromine BMS map);
//   - a SunSpec point: `point: 704.WSet`, whose offset, type, units, access and scale-factor point
//     come from the model definitions (sunspec_models.hpp) and whose address is known only once
//     the device has been discovered (sunspec_discovery.hpp).
// A driver writes only entries the map declares writable, inside their range: anything else is
// refused before it reaches the wire (check_write()).
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "devices/modbus/register_value.hpp"
#include "devices/modbus/sunspec_models.hpp"
#include "harness/status.hpp"
#include "harness/time.hpp"

namespace zhil::modbus {

// watchdog: a point that arms the device's own communication timeout (a SunSpec 704 revert timer, its
// revert value, its enable), written at activation only when the station asks for a watchdog.
enum class EntryRole : std::uint8_t { reads, writes, limit, init, watchdog, info };
// How the values of several units (a string of modules, one unit id each) make one signal.
enum class Gather : std::uint8_t { first, sum, mean, min, max, any };
const char* to_string(Gather g);

struct MapEntry {
  std::string name;   // "soc", or the SunSpec point "802.SoC"
  std::string where;  // file:line:column of the entry
  EntryRole role = EntryRole::info;
  std::string signal;    // the device's signal suffix it feeds or is fed from ("" for info/init)
  std::string per_unit;  // with several units: also one signal per unit, "m{unit}.v" -> m01.v
  Gather gather = Gather::first;

  // Where: an address, or a SunSpec point (model, point, group instance) resolved to one.
  int address = -1;
  int model = 0;
  std::string point;
  int instance = 0;
  RegisterFormat format;

  // value = raw * scale * 10^sf * factor   (sf read from scale_point; scale fixed)
  double scale = 1.0;
  std::string scale_point;   // SunSpec: the point's sf; elsewhere the name of an s16 entry
  int scale_address = -1;    // resolved
  double factor = 1.0;
  // value = raw * 10^sf / 100 * <percent_of>: a percentage of another point (WMaxLimPct of WMaxRtg)
  std::string percent_of;    // "702.WMaxRtg"
  int percent_of_entry = -1;  // index of the entry that reads it

  int bit = -1;  // a flag from a bit field: value = (raw >> bit) & 1
  // Enumerations: signal value <-> raw value; a raw value not listed reads as `other` (NaN: an error)
  std::vector<std::pair<double, double>> values;
  double other = std::numeric_limits<double>::quiet_NaN();

  std::string unit;
  bool writable = false;
  double lo = -std::numeric_limits<double>::infinity();  // valid range of the value (signal units)
  double hi = std::numeric_limits<double>::infinity();
  double init_value = 0;  // role init: written once at activation; role watchdog: its value when armed
  bool watchdog_timer = false;  // role watchdog: takes the station's watchdog, in whole seconds
  bool required = true;   // a device without it is refused (SunSpec: it lacks the point)
  bool on_change = false; // a command written only when it changes (else every cycle)
  // The safe state: a command or limit written with `safe` (power 0, contactor open); a reading
  // that must lie in `safe_when` for the safe state to count as verified.
  bool has_safe = false;
  double safe = 0;
  bool has_safe_when = false;
  double safe_lo = 0, safe_hi = 0;
  bool identity = false;  // part of what the device says it is (manufacturer, model, serial)
  // A counter the device increments (every second); not changing for this long means its
  // registers are frozen (stale but well-formed). 0: not a heartbeat.
  Duration heartbeat{0};

  bool resolved() const { return address >= 0; }
  // Written by a driver (so writable, and read back by a simulator): a command, a limit, a one-off.
  bool written() const {
    return role == EntryRole::writes || role == EntryRole::limit || role == EntryRole::init || role == EntryRole::watchdog;
  }
};

struct ReadableBlock {
  int first = 0, last = 0;  // inclusive register addresses the device answers for
};

struct RegisterMap {
  std::string name;
  std::string file;
  std::string description;
  bool sunspec = false;
  std::string models_dir;           // SunSpec: where the model definitions are
  std::shared_ptr<const SunSpecModelSet> models;
  std::vector<int> required_models;  // SunSpec: models the device must have
  std::vector<ReadableBlock> blocks; // explicit maps: ranges a read may span (gaps included)
  bool units_per_module = false;     // one unit id per module, gathered into the pack's signals
  bool single_writes = false;        // the device takes FC06 only: one register per write
  std::vector<MapEntry> entries;

  const MapEntry* find_signal(const std::string& suffix) const;
};

// The signal of unit `unit` for a `per_unit` template: "m{unit}.v", 1 -> "m01.v".
std::string per_unit_signal(const std::string& tmpl, int unit);

// Throws ConfigError naming file:line:column.
RegisterMap load_register_map(const std::string& path);
// Cached by path: a station of 16 packs reads the file once.
std::shared_ptr<const RegisterMap> cached_register_map(const std::string& path);

// A run of registers starting at address `base` (what a device's map spans).
struct RegisterWindow {
  int base = 0;
  std::vector<std::uint16_t> regs;
  bool holds(int address, int words) const {
    return address >= base && address + words <= base + static_cast<int>(regs.size());
  }
  std::span<const std::uint16_t> at(int address, int words) const {
    return {regs.data() + (address - base), static_cast<std::size_t>(words)};
  }
  std::span<std::uint16_t> at(int address, int words) {
    return {regs.data() + (address - base), static_cast<std::size_t>(words)};
  }
};

// The entry's value from the registers of its unit; `sf_power` is 10^sf of its scale point (1 if
// none; NaN if the device does not implement it) and `percent_base` the value of its percent_of
// entry. Not present: a not-implemented pattern. Errors: a value outside the entry's valid range, an
// enumeration value the map does not list.
struct Decoded {
  bool present = false;
  double value = 0;
};
Status decode_entry(const MapEntry& e, const RegisterWindow& w, double sf_power, double percent_base, Decoded* out);
// The raw registers for writing `value` to the entry; refused (nothing encoded) if the entry is not
// writable, the value is outside its range or its type cannot hold it.
Status encode_entry(const MapEntry& e, double value, double sf_power, double percent_base, RegisterWindow& w);
// 10^sf of the entry's scale-factor register in `w` (1 without one; NaN when the device does not
// implement it or it is outside SunSpec's -10..10), and the value of its percent_of entry (NaN if
// none or absent).
double sf_power_of(const MapEntry& e, const RegisterWindow& w);
double percent_base_of(const RegisterMap& map, const MapEntry& e, const RegisterWindow& w);

// The encoding alone, for a server presenting a value (no access or range check; still refuses a
// value its type cannot hold).
Status encode_value(const MapEntry& e, double value, double sf_power, double percent_base, RegisterWindow& w);
// The same checks without encoding, for messages before the wire.
Status check_write(const MapEntry& e, double value);

}  // namespace zhil::modbus
