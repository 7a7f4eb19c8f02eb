#pragma once
// Typed, located access to a YAML node: every error names file:line:column and the key, and
// unknown keys are refused (with a suggestion) so that a misspelt key is never silently ignored.
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "harness/config/config_error.hpp"
#include "harness/time.hpp"

namespace zhil {

class ConfigNode {
 public:
  ConfigNode() = default;
  ConfigNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string path)
      : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {}
  // YAML::Node's operator= writes into the node it refers to; a ConfigNode assignment must rebind
  // instead (reset), or assigning one config value to another would edit the document.
  ConfigNode(const ConfigNode&) = default;
  ConfigNode& operator=(const ConfigNode& other) {
    if (this != &other) {
      node_.reset(other.node_);
      file_ = other.file_;
      path_ = other.path_;
      fallback_mark_ = other.fallback_mark_;
    }
    return *this;
  }
  static ConfigNode load_file(const std::string& path);

  bool defined() const { return node_.IsDefined() && !node_.IsNull(); }
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  const YAML::Node& yaml() const { return node_; }
  const std::string& file() const { return *file_; }
  const std::string& path() const { return path_; }  // e.g. "timeline[3].grid"
  std::string where() const;                          // "file:line:column"
  int line() const;

  [[noreturn]] void fail(const std::string& message) const;

  bool has(const std::string& key) const;
  ConfigNode operator[](const std::string& key) const;  // may be undefined
  ConfigNode require(const std::string& key) const;     // error if missing
  std::vector<ConfigNode> items() const;                 // a sequence's items
  std::vector<std::pair<std::string, ConfigNode>> entries() const;  // a map's entries, in order
  void expect_map() const;
  void expect_keys(std::initializer_list<const char*> allowed) const;
  void expect_keys(const std::vector<std::string>& allowed) const;

  std::string as_string() const;
  double as_number() const;                          // plain finite number
  double as_quantity(const std::string& unit) const;  // "1.2 MW" -> 1.2e6 (unit "W")
  // The same, refused unless lo <= value <= hi (a physical range: no -60 Hz, no 1e300 V).
  double as_quantity_in(const std::string& unit, double lo, double hi) const;
  Duration as_duration() const;                      // "100 ms", "24 h", or seconds
  double as_time_of_day() const;                     // "15:30" or a duration; seconds after midnight
  long as_integer(long min, long max) const;
  bool as_bool() const;

  // Convenience: optional keys with defaults.
  std::string get_string(const std::string& key, const std::string& fallback) const;
  double get_quantity(const std::string& key, const std::string& unit, double fallback) const;
  double get_quantity_in(const std::string& key, const std::string& unit, double fallback, double lo, double hi) const;
  double get_number(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;

 private:
  YAML::Node node_;
  std::shared_ptr<const std::string> file_ = std::make_shared<const std::string>("<none>");
  std::string path_;
  // Mark of the parent key, for errors about a missing child.
  std::optional<YAML::Mark> fallback_mark_;
};

}  // namespace zhil
