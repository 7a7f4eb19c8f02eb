#pragma once
// SunSpec model definitions, read from the official JSON files (fixtures/sunspec/, copied from the
// SunSpec Alliance's models repository, Apache-2.0) rather than typed by hand: a point's offset is
// the sum of the sizes before it, its type, size, scale-factor point, units and access are the
// file's. Offsets count from the model's first register (its ID), so ID is at 0, L at 1 and the
// body starts at 2. A group that repeats (model 711's control sets, counted by NCtl) is laid out
// once: its points are named "Group.Point" and instance k of a point is k * group_size further.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "devices/modbus/register_value.hpp"

namespace zhil::modbus {

struct SunSpecPoint {
  std::string name;  // "WSet", or "Ctl.KOf" inside a group
  int offset = 0;    // from the model's ID register
  RegisterFormat format;
  std::string sf;     // the scale-factor point's name ("" none); it is in the same model
  std::string units;  // as the file says: W, Pct, Hz, ...
  bool writable = false;
  bool mandatory = false;
  int group_size = 0;           // > 0: in a repeating group of this many registers
  std::string group_count;      // the point that counts that group's instances
};

struct SunSpecModel {
  int id = 0;
  std::string name;     // "DERCtlAC"
  int length = 0;       // L as this layout has it (repeating groups once)
  std::vector<SunSpecPoint> points;
  const SunSpecPoint* find(const std::string& point) const;
};

class SunSpecModelSet {
 public:
  // Every model_*.json in `dir`. Throws std::runtime_error naming the file for a malformed one.
  static std::shared_ptr<const SunSpecModelSet> load(const std::string& dir);
  // Loaded once per directory per process (a station names the same set for every device).
  static std::shared_ptr<const SunSpecModelSet> cached(const std::string& dir);
  const SunSpecModel* find(int id) const;
  std::vector<int> ids() const;

 private:
  std::map<int, SunSpecModel> models_;
};

// Parses one model definition (the JSON text of a model_*.json); throws std::runtime_error.
SunSpecModel parse_sunspec_model(const std::string& json_text, const std::string& source);

}  // namespace zhil::modbus
