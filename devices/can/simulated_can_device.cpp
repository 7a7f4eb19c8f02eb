#include "devices/can/simulated_can_device.hpp"

#include "devices/can/can_link.hpp"
#include "devices/can/virtual_can_bus.hpp"
#include "devices/sim/simulated_pack_device.hpp"
#include "devices/sim/simulator_faces.hpp"
#include "harness/config/config_error.hpp"

namespace zhil::can {

SimulatedCanDevice::SimulatedCanDevice(std::unique_ptr<CanPackDriver> driver, std::unique_ptr<CanPackSimulator> node,
                                       std::unique_ptr<SocketcandServer> server)
    : DeviceDecorator(std::move(driver)), node_(std::move(node)), server_(std::move(server)) {}

SimulatedCanDevice::~SimulatedCanDevice() {
  if (server_) server_->stop();
}

std::vector<std::pair<std::string, std::uint64_t>> SimulatedCanDevice::io_counts() const {
  auto out = DeviceDecorator::io_counts();
  out.push_back({"simulator encode range errors", node_->encode_errors()});
  out.push_back({"simulator commands received", node_->commands_received()});
  if (auto* port = dynamic_cast<VirtualCanPort*>(&node_->bus())) out.push_back({"bus frames faulted", port->hub().faulted()});
  if (server_) {
    const auto& c = server_->counters();
    out.push_back({"socketcand sessions", c.sessions});
    out.push_back({"socketcand frames in", c.frames_in});
    out.push_back({"socketcand malformed", c.malformed});
  }
  return out;
}

Status SimulatedCanDevice::on_configure(DeviceContext& c) {
  if (auto s = node_->configure(c.clock, c.watchdog); !s) return s;
  SignalTable& t = c.signals;
  sim_stimuli_.clear();
  for (const auto& [suffix, unit] : node_->stimuli()) {
    SignalId id;
    if (auto s = add_stimulus(t, suffix, unit, &id, node_->stimulus(suffix)); !s) return s;
    sim_stimuli_.push_back({suffix, id});
  }
  for (auto [suffix, unit, id] : {std::tuple{"fault.can_drop", "1", &drop_}, {"fault.can_delay", "1", &delay_id_},
                                  {"fault.can_delay_s", "s", &delay_s_}, {"fault.can_corrupt", "1", &corrupt_},
                                  {"fault.can_freeze", "1", &freeze_}, {"fault.can_bus_off", "1", &bus_off_},
                                  {"fault.can_babble", "1", &babble_}})
    if (auto s = add_stimulus(t, suffix, unit, id); !s) return s;
  return DeviceDecorator::on_configure(c);
}

void SimulatedCanDevice::on_activate(Time now) {
  // The simulated pack powers up and starts sending on its bus; then the driver activates it over
  // the bus as it would a real one (it waits for the pack's frames).
  if (auto s = node_->activate(now); !s) {
    complete(s);
    return;
  }
  if (server_ && !serving_) {
    server_->start(*clock());
    serving_ = true;
  }
  DeviceDecorator::on_activate(now);
}

void SimulatedCanDevice::apply_bus_faults(const SignalTable& t) {
  auto* port = dynamic_cast<VirtualCanPort*>(&node_->bus());
  if (!port) return;  // a real or remote bus takes no injected faults
  // Stimuli carry id + 1 (0: no fault).
  auto id_of = [&](SignalId s) { return static_cast<long long>(t.value(s)) - 1; };
  BusFaults f;
  if (id_of(drop_) >= 0) f.drop.insert(static_cast<std::uint32_t>(id_of(drop_)));
  if (id_of(delay_id_) >= 0) f.delay[static_cast<std::uint32_t>(id_of(delay_id_))] = from_seconds(t.value(delay_s_));
  if (id_of(corrupt_) >= 0) f.corrupt.insert(static_cast<std::uint32_t>(id_of(corrupt_)));
  if (id_of(freeze_) >= 0) f.freeze.insert(static_cast<std::uint32_t>(id_of(freeze_)));
  f.bus_off = t.value(bus_off_) > 0.5;
  f.babbling = t.value(babble_) > 0.5;
  const BusFaults& now = port->hub().faults();
  if (f.drop != now.drop || f.delay != now.delay || f.corrupt != now.corrupt || f.freeze != now.freeze || f.bus_off != now.bus_off ||
      f.babbling != now.babbling)
    port->hub().set_faults(std::move(f));
}

void SimulatedCanDevice::on_stimuli(Time now, const SignalTable& t) {
  for (const auto& [suffix, id] : sim_stimuli_) node_->set_stimulus(suffix, t.value(id));
  node_->apply_stimuli(now);
  apply_bus_faults(t);
}

void SimulatedCanDevice::on_deactivate() {
  DeviceDecorator::on_deactivate();
  node_->deactivate();
}

void SimulatedCanDevice::on_detach() {
  DeviceDecorator::on_detach();
  if (server_) server_->stop();
  serving_ = false;
  if (auto* port = dynamic_cast<VirtualCanPort*>(&node_->bus())) port->hub().set_faults({});
  node_->detach();
}

namespace {

std::unique_ptr<Device> on_can_bus(DeviceBuildContext& c, sim::SimulatedModel model) {
  const DeviceConfig& d = c.device;
  const auto& link = static_cast<const CanLink&>(*d.link);
  auto* pm = std::get_if<sim::PackModel*>(&model);
  if (!pm) d.entry["link"].fail("device " + d.name + ": only a simulated pack is put on a CAN bus; use in-process");
  const sim::PackParams& params = (*pm)->params();
  claim_bus(c, link, d.name, d.entry["link"]);
  std::shared_ptr<const CanMap> map;
  try {
    map = std::make_shared<const CanMap>(load_can_map(resolve_can_map(link, "zinc-halogen-hv", d.entry.file()), params.modules));
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    d.entry["link"].fail(e.what());
  }
  auto sim = std::make_unique<sim::SimulatedPackDevice>(d.name, **pm, Duration{0}, sim::simulated_serial(d));
  auto node = std::make_unique<CanPackSimulator>(map, std::move(sim), make_bus(link, d.name, c.bench), "ZHIL", sim::simulated_serial(d));
  auto driver = std::make_unique<CanPackDriver>(d.name, d.role, map, make_bus(link, d.name, c.bench));
  std::unique_ptr<SocketcandServer> server;
  if (link.serve > 0) {
    if (link.type != "can-virtual") d.entry["link"].fail("device " + d.name + ": serve: only a virtual bus is served over socketcand");
    try {
      server = std::make_unique<SocketcandServer>(std::vector<std::string>{virtual_bus_name(link, d.name)}, link.serve_address,
                                                  link.serve, [&bench = c.bench](const std::string& bus) { return bench_hub(bench, bus); });
    } catch (const std::runtime_error& e) {
      d.entry["link"].fail("device " + d.name + ": " + e.what());
    }
  }
  return std::make_unique<SimulatedCanDevice>(std::move(driver), std::move(node), std::move(server));
}

struct RegisterFaces {
  RegisterFaces() {
    for (const char* t : {"can-virtual", "socketcan", "socketcand"}) sim::SimulatorFaces::instance().add(t, on_can_bus);
  }
  ~RegisterFaces() {
    for (const char* t : {"can-virtual", "socketcan", "socketcand"}) sim::SimulatorFaces::instance().remove(t);
  }
} const kFaces;

// A real pack (BMS) on CAN: model can-bms, map zinc-halogen-hv by default.
std::unique_ptr<Device> build_can_bms(DeviceBuildContext& c) {
  const DeviceConfig& d = c.device;
  const auto* link = dynamic_cast<const CanLink*>(d.link.get());
  if (!link) d.entry["link"].fail("device " + d.name + ": a can-bms is reached over socketcan, socketcand or can-virtual");
  if (d.params.defined()) d.params.expect_keys({"modules"});
  claim_bus(c, *link, d.name, d.entry["link"]);
  const int modules = d.params.defined() && d.params.has("modules") ? static_cast<int>(d.params["modules"].as_integer(1, 255)) : 1;
  std::shared_ptr<const CanMap> map;
  try {
    map = std::make_shared<const CanMap>(load_can_map(resolve_can_map(*link, "zinc-halogen-hv", d.entry.file()), modules));
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    d.entry["link"].fail(e.what());
  }
  return std::make_unique<CanPackDriver>(d.name, d.role, map, make_bus(*link, d.name, c.bench));
}

const DeviceRegistration kCanBms("can-bms", {"pack",
                                             "battery BMS over CAN (zhil's zinc-halogen frames, or the low-voltage 0x351.. set; "
                                             "a DBC file and a CAN map)",
                                             /*build_order=*/0, build_can_bms});

}  // namespace
}  // namespace zhil::can
