#pragma once
// A real Modbus TCP device behind an in-line proxy that zhil runs (`link: {type: modbus-tcp, host:
// ..., proxy: true}`): the driver talks to the proxy on 127.0.0.1, the proxy passes every request
// on to the device and its reply back, and the scenario's protocol faults (ProtocolFaults: delay,
// no reply, exception, frozen, corrupted, dropped connection, restart) are injected on the way, so
// a fault scenario runs against real hardware as it does against a simulator.
#include <memory>

#include "devices/modbus/modbus_driver.hpp"
#include "devices/modbus/modbus_tcp_server.hpp"
#include "devices/modbus/protocol_faults.hpp"
#include "harness/device_decorator.hpp"

namespace zhil::modbus {

class ProxiedModbusDevice final : public DeviceDecorator {
 public:
  // `upstream`: the transport to the device itself; `server`: its proxy (make_proxy), whose port the
  // driver's transport reaches; `clock`: where the proxy finds the run's clock once it serves.
  ProxiedModbusDevice(std::unique_ptr<ModbusDriver> driver, std::shared_ptr<Transport> upstream,
                      std::unique_ptr<ModbusTcpServer> server, std::shared_ptr<Clock*> clock);
  ~ProxiedModbusDevice() override;
  int proxy_port() const { return server_->port(); }

 protected:
  Status on_configure(DeviceContext& c) override;
  void on_activate(Time now) override;
  void on_stimuli(Time now, const SignalTable& t) override;
  void on_detach() override;

 private:
  std::shared_ptr<Transport> upstream_;
  std::unique_ptr<ModbusTcpServer> server_;
  std::shared_ptr<Clock*> clock_;
  ProtocolFaults faults_;
  bool serving_ = false;
};

// The proxy's server for `upstream`, on 127.0.0.1 (a free port): for tests and the builder.
std::unique_ptr<ModbusTcpServer> make_proxy(std::shared_ptr<Transport> upstream, std::shared_ptr<Clock*> clock);

}  // namespace zhil::modbus
