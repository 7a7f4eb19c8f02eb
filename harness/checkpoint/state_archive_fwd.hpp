#pragma once
// The checkpoint archives by name only, for interfaces that save and load state (Device, Plant,
// ControlCore) without every file that includes them compiling cereal.
namespace cereal {
class PortableBinaryOutputArchive;
class PortableBinaryInputArchive;
}  // namespace cereal

namespace zhil {
using StateWriter = cereal::PortableBinaryOutputArchive;
using StateReader = cereal::PortableBinaryInputArchive;
}  // namespace zhil
