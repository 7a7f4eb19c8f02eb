#include "harness/config/config_node.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "harness/config/units.hpp"
#include "harness/config/yaml_guard.hpp"

namespace zhil {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

ConfigNode ConfigNode::load_file(const std::string& path) {
  return ConfigNode(load_yaml_file(path), std::make_shared<const std::string>(path), "");
}

int ConfigNode::line() const {
  YAML::Mark m = node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark();
  if (m.is_null() && fallback_mark_) m = *fallback_mark_;
  return m.is_null() ? 1 : m.line + 1;
}

std::string ConfigNode::where() const {
  YAML::Mark m = node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark();
  if (m.is_null() && fallback_mark_) m = *fallback_mark_;
  if (m.is_null()) return *file_ + ":1:1";
  return *file_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

void ConfigNode::fail(const std::string& message) const {
  throw ConfigError(where() + ": " + (path_.empty() ? "" : path_ + ": ") + message);
}

bool ConfigNode::has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined();
}

ConfigNode ConfigNode::operator[](const std::string& key) const {
  std::string child_path = path_.empty() ? key : path_ + "." + key;
  if (!node_.IsMap()) {
    ConfigNode missing(YAML::Node(YAML::NodeType::Undefined), file_, child_path);
    missing.fallback_mark_ = node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark();
    return missing;
  }
  const YAML::Node& const_node = node_;
  YAML::Node found = const_node[key];
  // A missing key gives yaml-cpp's invalid "zombie" node, which throws on most uses; an explicit
  // Undefined node behaves.
  ConfigNode child(found.IsDefined() ? found : YAML::Node(YAML::NodeType::Undefined), file_, child_path);
  child.fallback_mark_ = node_.Mark();
  return child;
}

ConfigNode ConfigNode::require(const std::string& key) const {
  expect_map();
  ConfigNode child = (*this)[key];
  if (!child.defined()) fail("missing required key '" + key + "'");
  return child;
}

void ConfigNode::expect_map() const {
  if (!node_.IsMap()) fail("expected a mapping (key: value)");
}

std::vector<ConfigNode> ConfigNode::items() const {
  if (!node_.IsSequence()) fail("expected a list");
  std::vector<ConfigNode> out;
  std::size_t i = 0;
  for (const auto& item : node_) out.emplace_back(item, file_, path_ + "[" + std::to_string(i++) + "]");
  return out;
}

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::entries() const {
  expect_map();
  std::vector<std::pair<std::string, ConfigNode>> out;
  for (const auto& kv : node_) {
    std::string key = kv.first.Scalar();
    out.emplace_back(key, ConfigNode(kv.second, file_, path_.empty() ? key : path_ + "." + key));
  }
  return out;
}

void ConfigNode::expect_keys(std::initializer_list<const char*> allowed) const {
  expect_keys(std::vector<std::string>(allowed.begin(), allowed.end()));
}

void ConfigNode::expect_keys(const std::vector<std::string>& allowed) const {
  expect_map();
  std::set<std::string> seen;
  for (const auto& kv : node_) {
    if (kv.first.IsScalar() && !seen.insert(kv.first.Scalar()).second)
      ConfigNode(kv.first, file_, path_).fail("key '" + kv.first.Scalar() + "' given twice");
    if (!kv.first.IsScalar()) {
      ConfigNode(kv.first, file_, path_).fail("keys must be plain names");
    }
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string suggestion;
    std::size_t best = 3;
    for (const auto& a : allowed) {
      std::size_t d = edit_distance(key, a);
      if (d < best) best = d, suggestion = a;
    }
    std::string known;
    for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
    ConfigNode(kv.first, file_, path_)
        .fail("unknown key '" + key + "'" +
              (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)") +
              "; allowed here: " + known);
  }
}

std::string ConfigNode::as_string() const {
  if (!node_.IsScalar()) fail("expected a single value");
  return node_.Scalar();
}

double ConfigNode::as_number() const {
  auto v = parse_finite_number(as_string());
  if (!v) fail("'" + node_.Scalar() + "' is not a finite number");
  return *v;
}

double ConfigNode::as_quantity(const std::string& unit) const {
  auto q = parse_quantity(as_string(), unit);
  if (!q.value) fail(q.error);
  return *q.value;
}

double ConfigNode::as_quantity_in(const std::string& unit, double lo, double hi) const {
  const double v = as_quantity(unit);
  if (!(v >= lo && v <= hi)) fail("'" + as_string() + "' is outside the physical range: must be " + range_text(lo, hi, unit));
  return v;
}

double ConfigNode::get_quantity_in(const std::string& key, const std::string& unit, double fallback, double lo,
                                   double hi) const {
  ConfigNode n = (*this)[key];
  return n.defined() ? n.as_quantity_in(unit, lo, hi) : fallback;
}

Duration ConfigNode::as_duration() const {
  double s = as_quantity("s");
  if (s < 0) fail("a duration cannot be negative");
  if (s > 1e9) fail("duration too long (over 31 years)");
  return from_seconds(s);
}

double ConfigNode::as_time_of_day() const {
  const std::string s = as_string();
  auto colon = s.find(':');
  double tod;
  if (colon == std::string::npos) {
    tod = to_seconds(as_duration());
  } else {
    auto h = parse_finite_number(s.substr(0, colon));
    auto m = parse_finite_number(s.substr(colon + 1));
    if (!h || !m || *h < 0 || *m < 0 || *m >= 60) fail("expected a time of day HH:MM");
    tod = *h * 3600 + *m * 60;
  }
  if (tod >= 86400) fail("a time of day is before 24:00");
  return tod;
}

long ConfigNode::as_integer(long min, long max) const {
  const double v = as_number();
  // Range first: casting an out-of-range double to an integer is undefined behaviour.
  if (!(v >= static_cast<double>(min) && v <= static_cast<double>(max)) || v != std::trunc(v))
    fail("expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  return static_cast<long>(v);
}

bool ConfigNode::as_bool() const {
  const std::string s = as_string();
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail("expected true or false, got '" + s + "'");
}

std::string ConfigNode::get_string(const std::string& key, const std::string& fallback) const {
  ConfigNode n = (*this)[key];
  return n.defined() ? n.as_string() : fallback;
}
double ConfigNode::get_quantity(const std::string& key, const std::string& unit, double fallback) const {
  ConfigNode n = (*this)[key];
  return n.defined() ? n.as_quantity(unit) : fallback;
}
double ConfigNode::get_number(const std::string& key, double fallback) const {
  ConfigNode n = (*this)[key];
  return n.defined() ? n.as_number() : fallback;
}
bool ConfigNode::get_bool(const std::string& key, bool fallback) const {
  ConfigNode n = (*this)[key];
  return n.defined() ? n.as_bool() : fallback;
}

}  // namespace zhil
