// The Modbus device models a station names for real hardware (labgrid's drivers: how to talk to a
// device the link says where to find):
//   model: sunspec-inverter   role inverter, map sunspec-inverter by default
//   model: modbus-bms         role pack, map sunspec-battery by default (or zinc-bromine-bms)
// over `link: {type: modbus-tcp, host: ..., port: ..., unit: ...}` or `{type: modbus-rtu, ...}`.
// params: safe_state_time (how long the device takes to reach its safe state once commanded:
// an inverter ramping down), and for a per-module map the number of modules if `units` is not
// given.
#include "devices/modbus/modbus_driver.hpp"
#include "devices/modbus/modbus_link.hpp"
#include "devices/modbus/proxied_modbus_device.hpp"
#include "harness/config/config_error.hpp"
#include "harness/device_registry.hpp"

namespace zhil::modbus {
namespace {

std::unique_ptr<Device> build_driver(DeviceBuildContext& c, const std::string& default_map) {
  const DeviceConfig& d = c.device;
  const auto* link = dynamic_cast<const ModbusLink*>(d.link.get());
  if (!link)
    d.entry["link"].fail("device " + d.name + ": a " + d.model + " is reached over modbus-tcp (host, port, unit) or modbus-rtu");
  if (link->served_by_zhil)
    d.entry["link"].fail("device " + d.name + ": a " + d.model + " is a real device: give its host (and port, unit)");
  if (d.params.defined()) d.params.expect_keys({"safe_state_time", "modules"});
  std::shared_ptr<const RegisterMap> map;
  try {
    map = cached_register_map(resolve_map_path(*link, default_map, d.entry.file()));
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    d.entry["link"].fail(e.what());
  }
  std::vector<int> units = link->units;
  if (units.empty()) {
    if (map->units_per_module) {
      const long modules = d.params.has("modules") ? d.params["modules"].as_integer(1, 247) : 0;
      if (modules == 0)
        d.entry["link"].fail("device " + d.name + ": map " + map->name + " has one unit id per module: give the link's units "
                             "(e.g. units: 1..16) or params.modules");
      for (int u = 1; u <= modules; ++u) units.push_back(u);
    } else {
      units = {1};
    }
  }
  // Two devices on one serial line would need one worker shared between them; refuse rather than
  // open the port twice.
  if (link->endpoint.rtu) {
    auto owner = c.bench.part<std::string>("modbus.rtu:" + link->endpoint.device, [&] { return std::make_shared<std::string>(d.name); });
    if (*owner != d.name)
      d.entry["link"].fail("device " + d.name + ": " + link->endpoint.device + " is already the link of " + *owner +
                           "; one device per serial line in this version (give the devices' modules as units of one device)");
  }
  DriverSpec spec;
  spec.map = map;
  spec.units = units;
  // Never wait longer between reconnection attempts than a quarter of the device's fault_after:
  // a device that is back would otherwise be declared lost while the transport waits.
  TransportTiming timing = link->timing;
  timing.backoff_max = std::min(timing.backoff_max, std::max(timing.backoff_min, d.timing.fault_after / 4));
  spec.rewrite = link->rewrite;
  if (d.params.has("safe_state_time")) {
    spec.safe_state_time = d.params["safe_state_time"].as_duration();
    if (spec.safe_state_time < Duration{0} || spec.safe_state_time > std::chrono::minutes(10))
      d.params["safe_state_time"].fail("safe_state_time must be between 0 and 10 min");
  }
  if (!link->proxy) {
    spec.transport = make_transport(link->endpoint, timing);
    return std::make_unique<ModbusDriver>(d.name, d.role, std::move(spec));
  }
  // Through zhil's in-line proxy: the proxy talks to the device with the link's timing; the driver
  // talks to the proxy, waiting longer than the proxy does (a device that does not answer is a
  // timeout at the proxy, passed on as exception 0B, which the driver sees and records).
  auto upstream = make_transport(link->endpoint, timing);
  auto clock = std::make_shared<Clock*>(nullptr);
  auto server = make_proxy(upstream, clock);
  Endpoint ep;
  ep.port = server->port();
  TransportTiming local = timing;
  local.timeout = timing.timeout * (timing.retries + 1) + std::chrono::milliseconds(100);
  local.retries = 0;
  spec.transport = make_transport(ep, local);
  auto driver = std::make_unique<ModbusDriver>(d.name, d.role, std::move(spec));
  return std::make_unique<ProxiedModbusDevice>(std::move(driver), upstream, std::move(server), clock);
}

const DeviceRegistration kSunSpecInverter("sunspec-inverter", {
    "inverter", "SunSpec inverter (PCS) over Modbus TCP or RTU: discovers its models, commands WSet", /*build_order=*/1,
    [](DeviceBuildContext& c) { return build_driver(c, "sunspec-inverter"); }});

const DeviceRegistration kModbusBms("modbus-bms", {
    "pack", "battery BMS over Modbus (SunSpec 802/713, or the zinc-bromine module map, one unit per module)",
    /*build_order=*/0, [](DeviceBuildContext& c) { return build_driver(c, "sunspec-battery"); }});

}  // namespace
}  // namespace zhil::modbus
