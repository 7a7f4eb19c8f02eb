#pragma once
// What the simulators present besides their readings: scale factors chosen to fit their ratings,
// nameplate ratings, identity strings, and the zinc-bromine map's constant registers.
#include <string>

#include "devices/modbus/simulator_registers.hpp"
#include "devices/sim/inverter_model.hpp"
#include "devices/sim/pack_model.hpp"

namespace zhil::modbus {

Status inverter_nameplate(SimulatorRegisters& r, const sim::InverterParams& p, const std::string& serial);
Status pack_nameplate(SimulatorRegisters& r, const sim::PackParams& p, const std::string& serial);

}  // namespace zhil::modbus
