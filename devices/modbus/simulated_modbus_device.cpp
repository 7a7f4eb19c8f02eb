#include "devices/modbus/simulated_modbus_device.hpp"

#include <cmath>

#include "devices/modbus/modbus_link.hpp"
#include "devices/modbus/simulator_nameplate.hpp"
#include "devices/sim/simulated_inverter_device.hpp"
#include "devices/sim/simulated_pack_device.hpp"
#include "devices/sim/simulator_faces.hpp"
#include "harness/config/config_error.hpp"

namespace zhil::modbus {

SimulatedModbusDevice::SimulatedModbusDevice(std::unique_ptr<ModbusDriver> driver, std::shared_ptr<SimulatorRegisters> backend,
                                             std::shared_ptr<ModbusTcpServer> server, int external_port)
    : DeviceDecorator(std::move(driver)), backend_(std::move(backend)), server_(std::move(server)) {
  if (external_port > 0) {
    external_face_ = std::make_unique<ExternalFace>(*backend_, backend_->resolved());
    external_server_ = std::make_unique<ModbusTcpServer>(*external_face_, "127.0.0.1", external_port);
  }
}

SimulatedModbusDevice::~SimulatedModbusDevice() {
  if (external_server_) external_server_->stop();
  server_->stop();
}

std::vector<std::pair<std::string, std::uint64_t>> SimulatedModbusDevice::io_counts() const {
  auto out = DeviceDecorator::io_counts();
  if (external_face_) {
    out.push_back({"external writes accepted", external_face_->accepted()});
    out.push_back({"external writes refused", external_face_->refused()});
  }
  return out;
}

Status SimulatedModbusDevice::on_configure(DeviceContext& c) {
  if (auto s = backend_->configure(c.clock, c.watchdog); !s) return s;
  SignalTable& t = c.signals;
  sim_stimuli_.clear();
  for (const auto& [suffix, unit] : backend_->stimuli()) {
    SignalId id;
    if (auto s = add_stimulus(t, suffix, unit, &id, backend_->stimulus(suffix)); !s) return s;
    sim_stimuli_.push_back({suffix, id});
    if (suffix == "fault.comm_loss") comm_loss_ = id;
  }
  if (comm_loss_ == kNoSignal)
    if (auto s = add_stimulus(t, "fault.comm_loss", "1", &comm_loss_); !s) return s;
  faults_.use_comm_loss(comm_loss_);
  if (auto s = faults_.configure(t, name()); !s) return s;
  return DeviceDecorator::on_configure(c);
}

void SimulatedModbusDevice::on_activate(Time now) {
  // The simulator powers up (it is a device of its own, on the far side of the socket); then the
  // driver activates it over Modbus as it would a real one.
  if (auto s = backend_->activate(now); !s) {
    complete(s);
    return;
  }
  if (!serving_) {
    server_->start(*clock());
    if (external_server_) {
      external_face_->bind(signals(), clock(), name());
      external_server_->start(*clock());
    }
    serving_ = true;
  }
  DeviceDecorator::on_activate(now);
}

void SimulatedModbusDevice::on_read(Time now) {
  if (external_face_) external_face_->take_requests();
  DeviceDecorator::on_read(now);
}

void SimulatedModbusDevice::on_stimuli(Time now, const SignalTable& t) {
  for (const auto& [suffix, id] : sim_stimuli_) backend_->set_stimulus(suffix, t.value(id));
  backend_->apply_stimuli(now);
  faults_.apply(t, *server_);
}

void SimulatedModbusDevice::on_deactivate() {
  DeviceDecorator::on_deactivate();
  backend_->deactivate();
}

void SimulatedModbusDevice::on_detach() {
  DeviceDecorator::on_detach();
  server_->stop();
  if (external_server_) {
    external_server_->stop();
    external_face_->bind(nullptr, nullptr, name());
  }
  serving_ = false;
  backend_->detach();
}

namespace {

std::unique_ptr<Device> over_modbus_tcp(DeviceBuildContext& c, sim::SimulatedModel model) {
  const auto& link = static_cast<const ModbusLink&>(*c.device.link);
  if (!link.served_by_zhil)
    c.device.entry["link"].fail("device " + c.device.name + ": a simulator over modbus-tcp is served by zhil on 127.0.0.1: "
                                "give no host (a device at a host is a real one: model sunspec-inverter or modbus-bms)");
  const DeviceConfig& d = c.device;
  std::unique_ptr<Device> sim;
  std::string default_map;
  const sim::InverterParams* inv = nullptr;
  const sim::PackParams* pack = nullptr;
  int modules = 1;
  if (auto* pm = std::get_if<sim::PackModel*>(&model)) {
    sim = std::make_unique<sim::SimulatedPackDevice>(d.name, **pm, Duration{0}, sim::simulated_serial(d));
    default_map = "sunspec-battery";
    pack = &(*pm)->params();
    modules = pack->modules;
  } else if (auto* im = std::get_if<sim::InverterModel*>(&model)) {
    sim = std::make_unique<sim::SimulatedInverterDevice>(d.name, **im, Duration{0}, sim::simulated_serial(d));
    default_map = "sunspec-inverter";
    inv = &(*im)->params();
  } else {
    d.entry["link"].fail("device " + d.name + ": only simulated packs and inverters can be served over Modbus; use in-process");
  }
  std::shared_ptr<const RegisterMap> map;
  try {
    map = cached_register_map(resolve_map_path(link, default_map, d.entry.file()));
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    d.entry["link"].fail(e.what());
  }
  std::vector<int> units = link.units;
  if (units.empty()) {
    if (map->units_per_module)
      for (int u = 1; u <= modules; ++u) units.push_back(u);
    else
      units = {1};
  }
  if (map->units_per_module && static_cast<int>(units.size()) != modules)
    d.entry["link"].fail("device " + d.name + ": map " + map->name + " has one unit per module: " + std::to_string(modules) +
                         " units, not " + std::to_string(units.size()));
  const Duration safe_time = sim->safe_state_time();
  auto backend = std::make_shared<SimulatorRegisters>(map, units, std::move(sim));
  if (auto st = inv ? inverter_nameplate(*backend, *inv, sim::simulated_serial(d))
                    : pack_nameplate(*backend, *pack, sim::simulated_serial(d));
      !st)
    d.entry.fail("device " + d.name + ": simulator nameplate: " + st.message());
  auto lock = std::make_shared<LockStep>();
  auto server = std::make_shared<ModbusTcpServer>(*backend, "127.0.0.1", 0, lock);
  Endpoint ep;
  ep.host = "127.0.0.1";
  ep.port = server->port();
  // Never wait longer between reconnection attempts than a quarter of the device's fault_after:
  // a device that is back would otherwise be declared lost while the transport waits.
  TransportTiming timing = link.timing;
  timing.backoff_max = std::min(timing.backoff_max, std::max(timing.backoff_min, d.timing.fault_after / 4));
  auto transport = make_transport(ep, timing, lock);
  DriverSpec spec{map, units, transport, safe_time, link.rewrite};
  auto driver = std::make_unique<ModbusDriver>(d.name, d.role, std::move(spec));
  try {
    return std::make_unique<SimulatedModbusDevice>(std::move(driver), std::move(backend), std::move(server), link.serve);
  } catch (const std::runtime_error& e) {
    d.entry["link"].fail(std::string("device ") + d.name + ": " + e.what());  // the serve port is taken
  }
}

struct RegisterFace {
  RegisterFace() { sim::SimulatorFaces::instance().add("modbus-tcp", over_modbus_tcp); }
  ~RegisterFace() { sim::SimulatorFaces::instance().remove("modbus-tcp"); }
} const kFace;

}  // namespace
}  // namespace zhil::modbus
