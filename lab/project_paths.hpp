#pragma once
// Where a zhil checkout is (fixtures/, scenarios/), so that `zhil run` works from any directory:
// $ZHIL_ROOT, else the first folder above the working directory or above the program
// (build/bin/zhil) that holds fixtures/stations/.
#include <string>

namespace zhil::lab {

std::string find_project_root();
// A scenario's station: a path (has '/' or ends in .yaml) relative to the scenario's folder, or a
// name looked up as fixtures/stations/NAME.yaml under the project root.
std::string resolve_station(const std::string& station, const std::string& scenario_dir, const std::string& root);

}  // namespace zhil::lab
