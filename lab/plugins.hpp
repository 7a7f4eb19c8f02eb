#pragma once
// Out-of-tree drivers, cores and link types: a shared library whose static registrations
// (DeviceRegistration, LinkRegistration, CoreRegistry::add) run when it is loaded. The zhil program
// exports its symbols, so a plugin links against nothing and uses the program's registries.
#include <string>

#include "harness/status.hpp"

namespace zhil::lab {

Status load_plugin(const std::string& path);

}  // namespace zhil::lab
