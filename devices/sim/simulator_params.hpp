#pragma once
// Simulator parameters from fixture files (fixtures/packs, fixtures/inverters, fixtures/limits),
// with a station entry's params overriding the fixture key by key. Every physical figure must be
// in the fixture (with its source there); a missing one is an error naming the file.
#include <string>
#include <vector>

#include "devices/sim/inverter_model.hpp"
#include "devices/sim/load_model.hpp"
#include "devices/sim/pack_model.hpp"
#include "harness/config/config_node.hpp"

namespace zhil::sim {

// `params` is a station entry's params: {file: <fixture>, ...overrides}. Relative fixture paths are
// resolved against the directory of the file that names them.
// The files read (fixtures, limit sets) are appended to `files_read` when given.
PackParams load_pack_params(const ConfigNode& params, std::vector<std::string>* files_read = nullptr);
InverterParams load_inverter_params(const ConfigNode& params, double f_nominal_hz, double v_nominal_v,
                                    std::vector<std::string>* files_read = nullptr);
LoadParams load_load_params(const ConfigNode& params, std::vector<std::string>* files_read = nullptr);

// The fixture behind a station entry's params (for tests that read a fixture's published figures).
ConfigNode load_fixture(const ConfigNode& params, std::vector<std::string>* files_read = nullptr);

}  // namespace zhil::sim
