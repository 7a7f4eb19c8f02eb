#include "lab/simulator_server.hpp"

#include "lab/run_until_signal.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <memory>

#include <yaml-cpp/yaml.h>

#include "devices/can/can_pack_simulator.hpp"
#include "devices/can/socketcand_server.hpp"
#include "devices/can/virtual_can_bus.hpp"
#include "devices/modbus/modbus_rtu_server.hpp"
#include "devices/modbus/modbus_tcp_server.hpp"
#include "devices/modbus/simulator_nameplate.hpp"
#include "devices/modbus/simulator_registers.hpp"
#include "devices/sim/simulated_inverter_device.hpp"
#include "devices/sim/simulated_pack_device.hpp"
#include "devices/sim/simulator_params.hpp"
#include "devices/sim/site_simulator.hpp"
#include "harness/config/config_node.hpp"
#include "harness/real_time_clock.hpp"

namespace zhil::lab {

namespace {

ConfigNode params_from_file(const std::string& path) {
  YAML::Node n;
  n["file"] = path;
  // Relative paths in the fixture resolve against the fixture itself.
  return ConfigNode(n, std::make_shared<const std::string>(path), "params");
}

std::string map_file(const SimulatorServerOptions& o) {
  const std::string dir = o.root + "/fixtures/modbus/";
  if (o.kind == "inverter") return o.map == "sunspec" ? dir + "sunspec-inverter.yaml" : o.map;
  if (o.map == "sunspec") return dir + "sunspec-battery.yaml";
  if (o.map == "zinc-bromine") return dir + "zinc-bromine-bms.yaml";
  return o.map;
}

}  // namespace

namespace {

// The simulated pack on a virtual bus "can0", sending its CAN map's frames, served over socketcand.
int serve_pack_on_can(const SimulatorServerOptions& o) {
  boost::asio::io_context io;
  RealTimeClock clock(io);
  sim::SiteSimulator site(60.0);
  const std::string pack_fixture = !o.fixture.empty() ? o.fixture : o.root + "/fixtures/packs/zh-160kwh-16s.yaml";
  sim::PackModel& pack = site.add_pack("pack", sim::load_pack_params(params_from_file(pack_fixture)), 1);
  const std::string map_path = o.can_map.find('/') != std::string::npos || o.can_map.find(".yaml") != std::string::npos
                                   ? o.can_map
                                   : o.root + "/fixtures/can/" + o.can_map + ".yaml";
  auto map = std::make_shared<const can::CanMap>(can::load_can_map(map_path, pack.params().modules));
  auto device = std::make_unique<sim::SimulatedPackDevice>("pack", pack, Duration{0}, "SIM-pack");
  can::CanPackSimulator node(map, std::move(device), std::make_shared<can::VirtualCanPort>("can0"), "ZHIL", "SIM-pack");
  if (auto s = node.configure(clock, Duration{0}); !s) throw std::runtime_error(s.message());
  if (auto s = node.activate(clock.now()); !s) throw std::runtime_error(s.message());
  const auto colon = o.socketcand.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--socketcand HOST:PORT, e.g. 127.0.0.1:29536");
  can::SocketcandServer server({"can0"}, o.socketcand.substr(0, colon), std::stoi(o.socketcand.substr(colon + 1)));
  server.start(clock);
  std::function<void()> tick = [&] {
    (void)site.advance_to(clock.now());
    clock.call_after(std::chrono::milliseconds(100), tick);
  };
  clock.call_after(std::chrono::milliseconds(100), tick);
  std::cout << "zhil sim: pack (" << map->name << ", virtual bus can0) serving socketcand on " << o.socketcand.substr(0, colon) << ":"
            << server.port() << std::endl;
  run_until_signal(clock, "zhil sim");
  server.stop();
  node.detach();
  return 0;
}

}  // namespace

int run_simulator_server(const SimulatorServerOptions& o) {
  try {
    if (!o.socketcand.empty()) {
      if (o.kind != "pack") throw std::runtime_error("--socketcand: only the pack is simulated on CAN");
      return serve_pack_on_can(o);
    }
    boost::asio::io_context io;
    RealTimeClock clock(io);
    auto map = modbus::cached_register_map(map_file(o));
    sim::SiteSimulator site(60.0);
    const std::string pack_fixture = o.kind == "pack" && !o.fixture.empty() ? o.fixture : o.root + "/fixtures/packs/zh-160kwh-16s.yaml";
    sim::PackModel& pack = site.add_pack("pack", sim::load_pack_params(params_from_file(pack_fixture)), 1);
    std::unique_ptr<Device> device;
    std::vector<int> units{o.unit};
    if (o.kind == "inverter") {
      const std::string f = o.fixture.empty() ? o.root + "/fixtures/inverters/pcs-750kva.yaml" : o.fixture;
      sim::InverterModel& inv = site.add_inverter(sim::load_inverter_params(params_from_file(f), 60.0, 480.0), {&pack});
      device = std::make_unique<sim::SimulatedInverterDevice>("inv", inv, Duration{0}, "SIM-inverter");
    } else {
      device = std::make_unique<sim::SimulatedPackDevice>("pack", pack, Duration{0}, "SIM-pack");
      if (map->units_per_module) {
        units.clear();
        for (int k = 0; k < pack.params().modules; ++k) units.push_back(o.unit + k);
      }
    }
    const sim::InverterParams* inv_params = o.kind == "inverter" ? &site.inverter(0)->params() : nullptr;
    modbus::SimulatorRegisters backend(map, units, std::move(device));
    if (auto s = inv_params ? modbus::inverter_nameplate(backend, *inv_params, "SIM-inverter")
                            : modbus::pack_nameplate(backend, pack.params(), "SIM-pack");
        !s)
      throw std::runtime_error(s.message());
    if (auto s = backend.configure(clock, Duration{0}); !s) throw std::runtime_error(s.message());
    if (auto s = backend.activate(clock.now()); !s) throw std::runtime_error(s.message());

    // The site advances every 100 ms of wall time; requests read it as it stands.
    std::function<void()> tick = [&] {
      (void)site.advance_to(clock.now());
      clock.call_after(std::chrono::milliseconds(100), tick);
    };
    clock.call_after(std::chrono::milliseconds(100), tick);

    std::unique_ptr<modbus::ModbusTcpServer> tcp;
    std::unique_ptr<modbus::ModbusRtuServer> rtu;
    std::string where;
    if (!o.rtu.empty()) {
      rtu = std::make_unique<modbus::ModbusRtuServer>(backend, o.rtu, o.baud);
      rtu->start(io);
      where = o.rtu + " at " + std::to_string(o.baud) + " baud 8N1";
    } else {
      tcp = std::make_unique<modbus::ModbusTcpServer>(backend, o.address, o.port);
      tcp->start(clock);
      where = o.address + ":" + std::to_string(tcp->port());
    }
    std::string unit_text = std::to_string(units.front());
    if (units.size() > 1) unit_text += ".." + std::to_string(units.back());
    std::cout << "zhil sim: " << o.kind << " (" << map->name << ", unit " << unit_text << ") serving on " << where << std::endl;

    run_until_signal(clock, "zhil sim");
    if (tcp) tcp->stop();
    if (rtu) rtu->stop();
    backend.detach();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "zhil sim: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace zhil::lab
