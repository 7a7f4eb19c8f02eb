#pragma once
// A simulator behind Modbus TCP (a station's `link: {type: modbus-tcp}` on a simulated pack or
// inverter, with no host): zhil serves the simulator on 127.0.0.1 with its register map
// (SimulatorRegisters on a ModbusTcpServer) and reaches it with the same driver a real device gets
// (ModbusDriver over a Transport), so every byte a bench would carry crosses a real socket. This
// device is the driver, plus what a simulator has that hardware has not: its stimuli (ambient,
// faults) from the scenario, and the protocol faults the server can inject on the timeline:
//   fault.modbus_delay (s)  answer that much later          fault.modbus_freeze    registers stop updating
//   fault.modbus_no_reply   hear and never answer           fault.modbus_corrupt   values out of range
//   fault.modbus_exception  answer every request with it    fault.modbus_drop      drop every connection
//   fault.modbus_restart (s) stop listening that long, dropping every client
//   fault.comm_loss         the BMS or inverter does not answer (no reply)
#include <memory>

#include "devices/modbus/external_face.hpp"
#include "devices/modbus/modbus_driver.hpp"
#include "devices/modbus/modbus_tcp_server.hpp"
#include "devices/modbus/protocol_faults.hpp"
#include "devices/modbus/simulator_registers.hpp"
#include "harness/device_decorator.hpp"

namespace zhil::modbus {

class SimulatedModbusDevice final : public DeviceDecorator {
 public:
  SimulatedModbusDevice(std::unique_ptr<ModbusDriver> driver, std::shared_ptr<SimulatorRegisters> backend,
                        std::shared_ptr<ModbusTcpServer> server, int external_port = 0);
  std::vector<std::pair<std::string, std::uint64_t>> io_counts() const override;
  ~SimulatedModbusDevice() override;
  Duration safe_state_time() const override { return backend_->simulator().safe_state_time(); }
  Duration watchdog_armed() const override { return backend_->simulator().watchdog_armed(); }
  ModbusTcpServer& server() { return *server_; }
  SimulatorRegisters& backend() { return *backend_; }
  ModbusDriver& driver() { return static_cast<ModbusDriver&>(inner()); }

 protected:
  Status on_configure(DeviceContext& c) override;
  void on_activate(Time now) override;
  void on_read(Time now) override;
  void on_stimuli(Time now, const SignalTable& t) override;
  void on_deactivate() override;
  void on_detach() override;

 private:
  std::shared_ptr<SimulatorRegisters> backend_;
  std::shared_ptr<ModbusTcpServer> server_;  // after backend_: destroyed first
  // For an external control core (core: external): the simulator on a port of the station's choosing.
  std::unique_ptr<ExternalFace> external_face_;
  std::unique_ptr<ModbusTcpServer> external_server_;
  std::vector<std::pair<std::string, SignalId>> sim_stimuli_;
  SignalId comm_loss_ = kNoSignal;
  ProtocolFaults faults_;
  bool serving_ = false;  // from activation to detach (the server's loop is the run's)
};

}  // namespace zhil::modbus
