#include "devices/modbus/proxied_modbus_device.hpp"

namespace zhil::modbus {

std::unique_ptr<ModbusTcpServer> make_proxy(std::shared_ptr<Transport> upstream, std::shared_ptr<Clock*> clock) {
  return std::make_unique<ModbusTcpServer>(
      [upstream, clock](int unit, const PduSummary& s, std::function<void(const Result&)> reply) {
        Request r;
        r.unit = unit;
        switch (s.function) {
          case 3:
          case 4:
            r.function = s.function == 3 ? Function::read_holding : Function::read_input;
            r.address = s.read_address;
            r.count = s.read_count;
            break;
          case 6:
          case 16:
            r.function = s.function == 6 ? Function::write_single : Function::write_multiple;
            r.address = s.write_address;
            r.count = s.write_count;
            for (int k = 0; k < s.write_count; ++k)
              r.values.push_back(static_cast<std::uint16_t>(s.write_values[2 * k] << 8 | s.write_values[2 * k + 1]));
            break;
          default: {
            Result no;
            no.failure.kind = FailureKind::exception;
            no.failure.exception_code = 1;  // the proxy passes on registers only
            reply(no);
            return;
          }
        }
        if (!*clock) return;
        upstream->submit(**clock, std::move(r), std::move(reply));
      },
      "127.0.0.1", 0);
}

ProxiedModbusDevice::ProxiedModbusDevice(std::unique_ptr<ModbusDriver> driver, std::shared_ptr<Transport> upstream,
                                         std::unique_ptr<ModbusTcpServer> server, std::shared_ptr<Clock*> clock)
    : DeviceDecorator(std::move(driver)), upstream_(std::move(upstream)), server_(std::move(server)), clock_(std::move(clock)) {}

ProxiedModbusDevice::~ProxiedModbusDevice() {
  server_->stop();
  upstream_->cancel_all();
}

Status ProxiedModbusDevice::on_configure(DeviceContext& c) {
  if (auto s = faults_.configure(c.signals, name()); !s) return s;
  return DeviceDecorator::on_configure(c);
}

void ProxiedModbusDevice::on_activate(Time now) {
  if (!serving_) {
    *clock_ = clock();
    server_->start(**clock_);
    serving_ = true;
  }
  DeviceDecorator::on_activate(now);
}

void ProxiedModbusDevice::on_stimuli(Time, const SignalTable& t) { faults_.apply(t, *server_); }

void ProxiedModbusDevice::on_detach() {
  DeviceDecorator::on_detach();
  server_->stop();
  upstream_->detach();
  serving_ = false;
  *clock_ = nullptr;
}

}  // namespace zhil::modbus
