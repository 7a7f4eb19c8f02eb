#include "harness/device_registry.hpp"

namespace zhil {

DeviceRegistry& DeviceRegistry::instance() {
  static DeviceRegistry registry;
  return registry;
}

void DeviceRegistry::add(const std::string& model, DeviceModel factory) { models_[model] = std::move(factory); }

bool DeviceRegistry::remove(const std::string& model) { return models_.erase(model) > 0; }

const DeviceModel* DeviceRegistry::find(const std::string& model) const {
  auto it = models_.find(model);
  return it == models_.end() ? nullptr : &it->second;
}

std::vector<std::string> DeviceRegistry::models() const {
  std::vector<std::string> out;
  for (const auto& [m, f] : models_) out.push_back(m);
  return out;
}

}  // namespace zhil
