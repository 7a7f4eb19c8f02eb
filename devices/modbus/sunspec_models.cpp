#include "devices/modbus/sunspec_models.hpp"

#include <dirent.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "harness/config/regular_file.hpp"

namespace zhil::modbus {

const SunSpecPoint* SunSpecModel::find(const std::string& point) const {
  for (const SunSpecPoint& p : points)
    if (p.name == point) return &p;
  return nullptr;
}

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& source, const std::string& what) {
  throw std::runtime_error(source + ": " + what);
}

int group_points(const json& g, const std::string& prefix, int offset, int group_size, const std::string& group_count,
                 const std::string& source, std::vector<SunSpecPoint>* out) {
  if (g.contains("points")) {
    for (const json& p : g.at("points")) {
      SunSpecPoint pt;
      pt.name = prefix + p.at("name").get<std::string>();
      const std::string type = p.at("type").get<std::string>();
      int words = 0;
      if (!parse_register_type(type, &pt.format.type, &words)) bad(source, "point " + pt.name + ": unknown type " + type);
      const int size = p.at("size").get<int>();
      if (size <= 0 || size > 1024) bad(source, "point " + pt.name + ": size " + std::to_string(size));
      if (words != 0 && words != size) bad(source, "point " + pt.name + ": size does not match its type");
      pt.format.words = size;
      pt.offset = offset;
      if (p.contains("sf") && p.at("sf").is_string()) pt.sf = p.at("sf").get<std::string>();
      if (p.contains("units")) pt.units = p.at("units").get<std::string>();
      pt.writable = p.value("access", std::string("R")) == "RW";
      pt.mandatory = p.value("mandatory", std::string("O")) == "M";
      pt.group_size = group_size;
      pt.group_count = group_count;
      out->push_back(std::move(pt));
      offset += size;
    }
  }
  if (g.contains("groups")) {
    for (const json& sub : g.at("groups")) {
      const std::string name = sub.at("name").get<std::string>();
      std::string count;
      int fixed = 1;
      if (sub.contains("count") && sub.at("count").is_string()) count = sub.at("count").get<std::string>();
      else if (sub.contains("count")) fixed = sub.at("count").get<int>();
      if (fixed < 0 || fixed > 4096) bad(source, "group " + name + ": count " + std::to_string(fixed));
      if (count.empty() && fixed != 1) {
        // A group repeated a fixed number of times: instance 0 laid out, the others after it.
        std::vector<SunSpecPoint> scratch;
        const int size = group_points(sub, "", 0, 0, "", source, &scratch);
        group_points(sub, prefix + name + ".", offset, size, std::to_string(fixed), source, out);
        offset += fixed * size;
        continue;
      }
      // A repeating group inside another (a curve's points in model 705) is laid out once inside
      // the outer group's first instance; its instances are counted by its own point.
      if (count.empty()) {
        offset = group_points(sub, prefix + name + ".", offset, group_size, group_count, source, out);
        continue;
      }
      // Measure one instance first (its size), then lay out instance 0.
      std::vector<SunSpecPoint> scratch;
      const int size = group_points(sub, "", 0, 0, "", source, &scratch);
      offset = group_points(sub, prefix + name + ".", offset, size, count, source, out);
    }
  }
  return offset;
}

}  // namespace

SunSpecModel parse_sunspec_model(const std::string& text, const std::string& source) {
  SunSpecModel m;
  try {
    const json d = json::parse(text);
    m.id = d.at("id").get<int>();
    if (m.id < 1 || m.id > 65534) bad(source, "model id " + std::to_string(m.id) + " out of range");
    const json& g = d.at("group");
    m.name = g.at("name").get<std::string>();
    const int end = group_points(g, "", 0, 0, "", source, &m.points);
    if (m.points.size() < 2 || m.points[0].name != "ID" || m.points[1].name != "L")
      bad(source, "a model starts with its ID and L points");
    m.length = end - 2;
  } catch (const json::exception& e) {
    bad(source, e.what());
  }
  return m;
}

std::shared_ptr<const SunSpecModelSet> SunSpecModelSet::load(const std::string& dir) {
  auto set = std::make_shared<SunSpecModelSet>();
  DIR* d = opendir(dir.c_str());
  if (!d) throw std::runtime_error(dir + ": cannot open the SunSpec model folder");
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n.rfind("model_", 0) == 0 && n.size() > 11 && n.substr(n.size() - 5) == ".json") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    const std::string path = dir + "/" + n;
    SunSpecModel m = parse_sunspec_model(read_regular_file(path, 4u << 20, "SunSpec model"), path);
    const int id = m.id;
    if (!set->models_.emplace(id, std::move(m)).second) throw std::runtime_error(path + ": model " + std::to_string(id) + " defined twice");
  }
  if (set->models_.empty()) throw std::runtime_error(dir + ": no model_*.json files");
  return set;
}

std::shared_ptr<const SunSpecModelSet> SunSpecModelSet::cached(const std::string& dir) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const SunSpecModelSet>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[dir];
  if (!slot) slot = load(dir);
  return slot;
}

const SunSpecModel* SunSpecModelSet::find(int id) const {
  auto it = models_.find(id);
  return it == models_.end() ? nullptr : &it->second;
}

std::vector<int> SunSpecModelSet::ids() const {
  std::vector<int> out;
  for (const auto& [id, m] : models_) out.push_back(id);
  return out;
}

}  // namespace zhil::modbus
