#pragma once
// Helpers shared by the tests: paths into the checkout and scratch folders.
#include <string>

#include "harness/config/config_node.hpp"

namespace zhil::test {

std::string source_path(const std::string& relative);  // <checkout>/relative
std::string scratch_dir(const std::string& name);       // a fresh empty folder under the build tree
std::string write_file(const std::string& dir, const std::string& name, const std::string& text);
std::string read_file(const std::string& path);  // the whole file, bytes as they are
// A station entry's params naming a fixture of the checkout, e.g. "fixtures/packs/zh-160kwh-16s.yaml".
ConfigNode fixture_entry(const std::string& fixture);

}  // namespace zhil::test

#include <functional>
#include <memory>

#include "harness/device_decorator.hpp"
#include "harness/device_registry.hpp"

namespace zhil::test {

// A device in front of another (harness/device_decorator.hpp); tests override what they want to
// see or break.
using DeviceDecorator = zhil::DeviceDecorator;

// Registers `model` (role of `base`) for the life of the object: the registry's `base` model,
// wrapped by `wrap`.
class ScopedDecoratedModel : public DeviceRegistration {
 public:
  using Wrap = std::function<std::unique_ptr<Device>(std::unique_ptr<Device>)>;
  ScopedDecoratedModel(const std::string& model, const std::string& base, Wrap wrap);
};

}  // namespace zhil::test
