#pragma once
// A simulator presented as Modbus registers, by the same register map a driver reads it with: the
// simulator's in-process device (SimulatedPackDevice, SimulatedInverterDevice) runs against a
// private signal table, its readings are encoded into each unit's registers when a request reads
// them, and values written to the map's command registers are decoded into its commands. So a
// simulator serves any map whose signals it has, and the driver and the simulator agree on a map
// because they read the same file.
//
// SunSpec maps are laid out as a device presents them: 'SunS' at 40000, the models of the map in
// order, every point its not-implemented value until the simulator or the map gives it one, the
// end marker. The simulator's nameplate (scale factors, ratings, strings) is set by name with
// set_point(). With several units (a string of modules, one unit id each), unit k presents module
// k: a reading with `per_unit` is that module's value, the others the pack's.
#include <memory>
#include <string>
#include <vector>

#include "devices/modbus/register_backend.hpp"
#include "devices/modbus/sunspec_layout.hpp"
#include "harness/device.hpp"

namespace zhil::modbus {

class SimulatorRegisters final : public RegisterBackend, private DeviceObserver {
 public:
  // `units`: the unit ids served (one per module for a per-module map).
  SimulatorRegisters(std::shared_ptr<const RegisterMap> map, std::vector<int> units, std::unique_ptr<Device> simulator);
  ~SimulatorRegisters() override;

  // With the run (or the standalone server's loop): the simulator configured into this object's
  // own table. Stimuli named like the simulator's (ambient_c, fault.*) are copied from the run by
  // apply_stimuli(). Watchdog: the simulator's own communication timeout.
  Status configure(Clock& clock, Duration watchdog);
  // Power-up (leaves the safe state; arms its watchdog). Synchronous: the simulator is in-process.
  Status activate(Time now);
  void deactivate();
  void detach();
  // The simulator's stimuli in this object's table, by suffix (ambient_c, fault.cooling_loss, ...).
  std::vector<std::pair<std::string, std::string>> stimuli() const;  // (suffix, unit)
  void set_stimulus(const std::string& suffix, double value);
  double stimulus(const std::string& suffix) const;
  void apply_stimuli(Time now);

  // Nameplate and constants: a SunSpec point ("702.WMaxRtg") or map entry by name, as a value in
  // its own units (a scale factor: its exponent), or a string.
  Status set_point(const std::string& name, double value);
  Status set_string(const std::string& name, const std::string& text);
  const SunSpecLayout& layout() const { return layout_; }
  const RegisterMap& resolved() const { return resolved_; }
  Device& simulator() { return *sim_; }

  // RegisterBackend
  bool has_unit(int unit) const override;
  void refresh(int unit) override;
  RegisterWindow& window(int unit) override { return windows_[index_of(unit)]; }
  int check_read(int unit, int address, int count) const override;
  int check_write(int unit, int address, const std::uint16_t* values, int count) const override;
  void written(int unit, int address, int count) override;

 private:
  void device_done(Device&, DeviceOp, const Status& s) override { last_ok_ = s.is_ok(); }
  std::size_t index_of(int unit) const;
  // A SunSpec point by "MODEL.POINT" on this layout (null if the map is not SunSpec or lacks it).
  const SunSpecPoint* find_point(const std::string& name, const SunSpecModel** def, const ModelInstance** where) const;
  std::string unit_suffix(const MapEntry& e, int unit) const;

  std::shared_ptr<const RegisterMap> map_;
  RegisterMap resolved_;
  SunSpecLayout layout_;
  std::vector<int> units_;
  std::unique_ptr<Device> sim_;
  SignalTable table_;
  Clock* clock_ = nullptr;
  bool last_ok_ = false;
  std::vector<RegisterWindow> windows_;
  std::vector<char> readable_, writable_;  // by register, over the window
  // Per entry and unit, the signal in table_ it maps to (kNoSignal: the simulator has none).
  std::vector<std::vector<SignalId>> signal_of_;
  std::vector<std::pair<std::string, SignalId>> stimuli_;
};

}  // namespace zhil::modbus
