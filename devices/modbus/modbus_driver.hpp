#pragma once
// A device driven over Modbus by its register map: the one driver behind the SunSpec inverter, the
// SunSpec battery and the zinc-bromine BMS, and the same code whether the device is on the bench or
// a simulator behind a loopback socket. The map says everything device-specific: which registers
// feed which signals, which commands go where, what the safe state writes and what it reads back.
//
//   activate: SunSpec maps discover the device's models and resolve their points (a device that
//             lacks a required model or point is refused, naming it); the registers are read once
//             (a required point the device does not implement is refused too), the identity taken,
//             and the map's `init` writes made (WSetEna = 1, ...).
//   read:     the coalesced reads of every unit, in turn; all values are decoded and range-checked
//             before anything is published, so a bad reply fails the read and publishes nothing.
//   write:    commands and limits encoded by the map, refused before the wire if the map does not
//             declare the register writable or the value is out of its range; contiguous registers
//             go in one FC16 request.
//   safe:     the map's `safe` values written; verify reads back and checks `safe_when`.
// With several units (a string of zinc-bromine modules, one unit id each) every reading is read
// from each unit, published per unit where the map says (m01.v ...) and gathered into the pack's
// signal (sum of voltages, mean SOC, worst temperature); commands go to every unit.
#include <memory>
#include <string>
#include <vector>

#include "devices/modbus/modbus_transport.hpp"
#include "devices/modbus/read_plan.hpp"
#include "devices/modbus/register_map.hpp"
#include "devices/modbus/sunspec_layout.hpp"
#include "harness/device.hpp"

namespace zhil::modbus {

struct DriverSpec {
  std::shared_ptr<const RegisterMap> map;
  std::vector<int> units{1};
  std::shared_ptr<Transport> transport;
  Duration safe_state_time{0};
  // An unchanged command is written again this often (0: every cycle); a changed one at once.
  Duration rewrite{std::chrono::seconds(10)};
};

class ModbusDriver : public Device {
 public:
  ModbusDriver(std::string name, std::string role, DriverSpec spec);
  ~ModbusDriver() override;
  std::string identity() const override { return identity_; }
  Duration safe_state_time() const override { return spec_.safe_state_time; }
  Transport& transport() { return *spec_.transport; }
  const SunSpecLayout& layout() const { return layout_; }
  const RegisterMap& resolved_map() const { return resolved_; }
  // The optional commands left out because the device does not implement them (704.VarSet, ...).
  const std::vector<std::string>& left_out() const { return dropped_; }
  // Failures by kind, for the record; and the last one in words.
  std::vector<std::pair<std::string, std::uint64_t>> io_counts() const override;
  // The device's own timeout armed at activation through the map's watchdog points (0: the device
  // lacks them, the map has none, or the station asked for none).
  Duration watchdog_armed() const override { return watchdog_armed_; }

 protected:
  Status on_configure(DeviceContext& c) override;
  void on_activate(Time now) override;
  void on_read(Time now) override;
  void on_write(Time now, const SignalTable& t) override;
  void on_safe_state() override;
  void on_verify_safe_state() override;
  void on_publish(Time stamp, SignalTable& t) override;
  void on_abandon() override;
  void on_deactivate() override;
  void on_detach() override;

 private:
  struct Binding {
    std::size_t entry = 0;  // index into the map's entries
    SignalId id = kNoSignal;
    std::vector<SignalId> per_unit;
  };
  using Then = std::function<void(const Status&)>;
  // Runs the requests one after another on the transport; `then` gets the first failure (named with
  // the device, function and register) or ok. Read replies land in the unit windows.
  void run_requests(std::vector<Request> requests, Then then);
  void next_request(std::shared_ptr<std::vector<Request>> requests, std::size_t k, OpToken token, Then then);
  std::vector<Request> read_requests(ReadSet set) const;
  // The next read is a full one (scale factors and ratings too) if the last was `rewrite` ago.
  ReadSet due_read_set(Time now);
  Status decode_all(std::vector<double>* values, std::vector<std::vector<double>>* per_unit) const;
  // Requests writing `values` (entry index, value) to every unit; with `now` only registers whose
  // encoding changed since they were last written, or were written `rewrite` ago.
  Status encode_writes(const std::vector<std::pair<std::size_t, double>>& values, std::vector<Request>* out,
                       const Time* now = nullptr);
  void note_written(const std::vector<Request>& requests, Time now);
  void forget_written();
  double sf_power(const MapEntry& e, std::size_t unit) const;
  double percent_base(const MapEntry& e, std::size_t unit) const;
  void finish_activation(Time now, OpToken token);
  // Adds the map's watchdog writes (revert value, enable, timer) when the station asks for a
  // watchdog and the device implements all of them; sets watchdog_armed_ and refresh_.
  void arm_watchdog(std::vector<std::pair<std::size_t, double>>* writes);
  void discover_next(OpToken token, Time now);
  std::string request_error(const Request& r, const Result& res) const;
  void set_windows();

  DriverSpec spec_;
  RegisterMap resolved_;
  SunSpecLayout layout_;
  std::vector<ReadRun> cycle_runs_, full_runs_;
  Time full_read_at_{0};
  std::vector<RegisterWindow> windows_;  // per unit
  std::vector<Binding> reads_, writes_, limits_;
  SignalId link_failures_ = kNoSignal, link_reconnects_ = kNoSignal;
  std::vector<double> values_;                   // decoded by the last read, per reads_ entry
  std::vector<std::vector<double>> unit_values_; // per reads_ entry, per unit
  // Per unit: what was last written to each register and when (Time{-1}: not known to the device).
  std::vector<RegisterWindow> sent_;
  std::vector<std::vector<Time>> sent_at_;
  std::string identity_;
  std::vector<std::string> dropped_;  // optional commands the device does not implement
  std::unique_ptr<SunSpecDiscovery> discovery_;
  bool discovered_ = false;
  Duration watchdog_armed_{0};
  // How long an unchanged command may go unwritten: `rewrite`, or less than half the armed watchdog
  // (a device's revert timer restarts on each write; it must not expire while zhil lives).
  Duration refresh_{std::chrono::seconds(10)};
  std::uint64_t refused_ = 0;
  std::uint64_t frozen_ = 0;
  // Per heartbeat entry and unit: its last raw value and when it last changed.
  std::vector<std::vector<std::pair<double, Time>>> heartbeats_;
  Status check_heartbeats(Time now);
};

}  // namespace zhil::modbus
