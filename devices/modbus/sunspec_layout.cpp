#include "devices/modbus/sunspec_layout.hpp"

namespace zhil::modbus {

const ModelInstance* SunSpecLayout::find(int id) const {
  for (const ModelInstance& m : models)
    if (m.id == id) return &m;
  return nullptr;
}

std::string SunSpecLayout::describe() const {
  std::string s = "SunS at " + std::to_string(base) + ":";
  for (const ModelInstance& m : models) s += " " + std::to_string(m.id) + " (L " + std::to_string(m.length) + ")";
  return s;
}

SunSpecDiscovery::SunSpecDiscovery() { layout_.base = kBases[0]; }

std::optional<SunSpecDiscovery::Read> SunSpecDiscovery::next() const {
  if (done_) return std::nullopt;
  if (!found_base_) return Read{kBases[base_index_], 2};
  return Read{cursor_, 2};
}

void SunSpecDiscovery::feed(bool failed, const std::vector<std::uint16_t>& regs, const std::string& why) {
  if (done_) return;
  if (!found_base_) {
    const bool marker = !failed && regs.size() == 2 && regs[0] == 0x5375 && regs[1] == 0x6E53;
    if (marker) {
      found_base_ = true;
      layout_.base = kBases[base_index_];
      cursor_ = layout_.base + 2;
      return;
    }
    tried_.push_back(std::to_string(kBases[base_index_]) + (failed ? " (" + why + ")" : ""));
    if (++base_index_ == 3) {
      done_ = true;
      std::string list;
      for (const auto& t : tried_) list += (list.empty() ? "" : ", ") + t;
      error_ = "not a SunSpec device: no 'SunS' marker at " + list;
    }
    return;
  }
  if (failed || regs.size() != 2) {
    done_ = true;
    error_ = "SunSpec model chain broken at register " + std::to_string(cursor_) + ": " + (why.empty() ? "short read" : why);
    return;
  }
  const int id = regs[0];
  const int length = regs[1];
  if (id == 0xFFFF) {
    layout_.end = cursor_;
    done_ = true;
    return;
  }
  if (id == 0 || layout_.models.size() >= 512) {
    done_ = true;
    error_ = "SunSpec model chain broken at register " + std::to_string(cursor_) + ": model id " + std::to_string(id) +
             (id == 0 ? " (no end marker 0xFFFF)" : " (more than 512 models)");
    return;
  }
  if (cursor_ + 2 + length > 65535) {
    done_ = true;
    error_ = "SunSpec model " + std::to_string(id) + " at register " + std::to_string(cursor_) + " has length " +
             std::to_string(length) + ", past the last register";
    return;
  }
  layout_.models.push_back({id, cursor_, length});
  cursor_ += 2 + length;
}

SunSpecLayout lay_out_models(const SunSpecModelSet& set, const std::vector<int>& ids, int base) {
  SunSpecLayout l;
  l.base = base;
  int at = base + 2;
  for (int id : ids) {
    const SunSpecModel* m = set.find(id);
    if (!m) continue;
    l.models.push_back({id, at, m->length});
    at += 2 + m->length;
  }
  l.end = at;
  return l;
}

Status resolve_map(const RegisterMap& map, const SunSpecLayout& layout, RegisterMap* out) {
  *out = map;
  for (int id : map.required_models)
    if (!layout.find(id))
      return Status::error("the device lacks SunSpec model " + std::to_string(id) + " (" +
                           (map.models->find(id) ? map.models->find(id)->name : std::string("?")) +
                           "), which map " + map.name + " requires; it has: " + layout.describe());
  for (MapEntry& e : out->entries) {
    if (e.model == 0) continue;
    const ModelInstance* inst = layout.find(e.model);
    const SunSpecModel* def = map.models->find(e.model);
    if (!inst) {
      if (e.required)
        return Status::error("the device lacks SunSpec model " + std::to_string(e.model) + " (" + def->name + ") for " +
                             e.name + (e.signal.empty() ? "" : " (signal " + e.signal + ")"));
      e.address = -1;
      continue;
    }
    const SunSpecPoint* p = def->find(e.point);
    const int offset = p->offset + e.instance * p->group_size;
    if (offset + p->format.words > inst->length + 2) {
      if (e.required)
        return Status::error("the device's SunSpec model " + std::to_string(e.model) + " is " + std::to_string(inst->length) +
                             " registers long and lacks point " + e.point + (e.signal.empty() ? "" : " (signal " + e.signal + ")"));
      e.address = -1;
      continue;
    }
    e.address = inst->address + offset;
    if (!e.scale_point.empty()) {
      const SunSpecPoint* sf = def->find(e.scale_point);
      if (!sf || sf->offset + 1 > inst->length + 2) {
        if (e.required)
          return Status::error("the device's SunSpec model " + std::to_string(e.model) + " lacks scale factor " + e.scale_point +
                               " of " + e.point);
        e.address = -1;
        continue;
      }
      e.scale_address = inst->address + sf->offset;
    }
  }
  return Status::ok();
}

}  // namespace zhil::modbus
