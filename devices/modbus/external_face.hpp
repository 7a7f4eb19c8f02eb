#pragma once
// What an external control core (core: external) sees of a simulated device: the simulator's
// registers, served on the port the link names (`serve: PORT`), with every write to a command
// register bounded by the safety envelope before it reaches the device. A write that the envelope
// would not pass (a power setpoint beyond the inverter's envelope limits p_limit_discharge /
// p_limit_charge, or any value outside the map's range) is answered with exception 03 and counted;
// a write it passes becomes the command's request in the run (as a core's would be) when the
// device's next cycle starts, which the envelope then bounds every cycle and zhil's own driver
// writes to the device. Reads are the
// simulator's, brought up to date as for any client.
#include <functional>
#include <string>

#include "devices/modbus/register_backend.hpp"
#include "devices/modbus/simulator_registers.hpp"
#include "harness/signal_table.hpp"

namespace zhil::modbus {

class ExternalFace final : public RegisterBackend {
 public:
  ExternalFace(SimulatorRegisters& inner, const RegisterMap& resolved) : inner_(inner), map_(resolved) {}
  // With the run: its table (requests are set there) and the device's name; unbound, every write is refused.
  void bind(SignalTable* table, Clock* clock, const std::string& device);
  std::uint64_t refused() const { return refused_; }
  std::uint64_t accepted() const { return accepted_; }

  bool has_unit(int unit) const override { return inner_.has_unit(unit); }
  void refresh(int unit) override { inner_.refresh(unit); }
  RegisterWindow& window(int unit) override { return inner_.window(unit); }
  int check_read(int unit, int address, int count) const override { return inner_.check_read(unit, address, count); }
  int check_write(int unit, int address, const std::uint16_t* values, int count) const override;
  void written(int unit, int address, int count) override;
  // The writes accepted since the last call become the commands' requests in the run's table. The
  // device calls it when its cycle's read starts: a write lands at a fixed point of the cycle, not
  // whenever its packet happens to arrive (which, in lock-step simulated time, made the recorded
  // requests differ by a cycle between two runs of the same scenario).
  void take_requests();

 private:
  // The value a write would give each command entry it touches (entry index, value).
  std::vector<std::pair<std::size_t, double>> decode(int unit, int address, const std::uint16_t* values, int count) const;

  SimulatorRegisters& inner_;
  const RegisterMap& map_;
  SignalTable* table_ = nullptr;
  Clock* clock_ = nullptr;
  std::string device_;
  mutable std::uint64_t refused_ = 0;
  std::uint64_t accepted_ = 0;
  std::vector<std::pair<std::size_t, double>> pending_;  // checked, to be taken by written()
  std::vector<std::pair<SignalId, double>> requests_;    // accepted, to be taken by take_requests()
};

}  // namespace zhil::modbus
