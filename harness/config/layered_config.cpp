#include "harness/config/layered_config.hpp"

namespace zhil {

ConfigNode LayeredConfig::get(const std::string& key) const {
  if (overrides_.defined() && overrides_.has(key)) return overrides_[key];
  return base_.defined() ? base_[key] : ConfigNode();
}

ConfigNode LayeredConfig::require(const std::string& key) const {
  ConfigNode n = get(key);
  if (!n.defined()) {
    if (base_.defined()) base_.fail("missing required key '" + key + "'");
    if (overrides_.defined()) overrides_.fail("missing required key '" + key + "'");
    throw ConfigError("missing required parameter '" + key + "'");
  }
  return n;
}

void LayeredConfig::expect_keys(const std::vector<std::string>& allowed) const {
  if (base_.defined()) base_.expect_keys(allowed);
  if (overrides_.defined()) overrides_.expect_keys(allowed);
}

double LayeredConfig::quantity(const std::string& key, const std::string& unit, double fallback) const {
  ConfigNode n = get(key);
  return n.defined() ? n.as_quantity(unit) : fallback;
}

double LayeredConfig::require_quantity(const std::string& key, const std::string& unit) const {
  return require(key).as_quantity(unit);
}

double LayeredConfig::quantity_in(const std::string& key, const std::string& unit, double fallback, double lo,
                                  double hi) const {
  ConfigNode n = get(key);
  return n.defined() ? n.as_quantity_in(unit, lo, hi) : fallback;
}

double LayeredConfig::require_quantity_in(const std::string& key, const std::string& unit, double lo,
                                          double hi) const {
  return require(key).as_quantity_in(unit, lo, hi);
}

std::string LayeredConfig::where() const {
  return overrides_.defined() ? overrides_.where() : base_.defined() ? base_.where() : "<defaults>";
}

}  // namespace zhil
