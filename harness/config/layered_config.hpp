#pragma once
// Parameters from two layers, key by key: `overrides` (a scenario's core_params, a station entry's
// params) over `base` (a station's core params, a device fixture file).
#include <string>
#include <vector>

#include "harness/config/config_node.hpp"

namespace zhil {

class LayeredConfig {
 public:
  LayeredConfig(ConfigNode base, ConfigNode overrides) : base_(std::move(base)), overrides_(std::move(overrides)) {}
  ConfigNode get(const std::string& key) const;  // may be undefined
  ConfigNode require(const std::string& key) const;
  void expect_keys(const std::vector<std::string>& allowed) const;
  double quantity(const std::string& key, const std::string& unit, double fallback) const;
  double require_quantity(const std::string& key, const std::string& unit) const;
  // Refused (at the layer's file:line:column) unless lo <= value <= hi.
  double quantity_in(const std::string& key, const std::string& unit, double fallback, double lo, double hi) const;
  double require_quantity_in(const std::string& key, const std::string& unit, double lo, double hi) const;
  std::string where() const;

 private:
  ConfigNode base_, overrides_;
};

}  // namespace zhil
