#pragma once
// The station's CAN links (where a bus is; labgrid's resources):
//   link: {type: can-virtual, bus: can0}                     a bus inside this process (without bus:
//                                                            one of the device's own, "can-<device>";
//                                                            "{name}" in it is the device's name)
//   link: {type: can-virtual, bus: can0, serve: 29536}       ... also served over socketcand on 127.0.0.1
//   link: {type: socketcand, host: lab-pc, port: 29536, bus: can1}   a bus on another machine
//   link: {type: socketcan, interface: can0, bitrate: 500000}        an interface of this machine
// with `map` (a CAN map: a file relative to the station, or a name in fixtures/can/) and, for a
// real pack, `modules` when the map has per-module signals.
#include <memory>
#include <string>

#include "devices/can/can_bus.hpp"
#include "devices/can/socketcan_bus.hpp"
#include "devices/can/socketcand_bus.hpp"
#include "harness/device_registry.hpp"
#include "harness/link.hpp"

namespace zhil::can {

class CanTraffic;
class VirtualCanHub;

struct CanLink final : LinkSpec {
  std::string bus;                 // can-virtual: the bus name ("" : can-<device>); socketcand: the remote bus
  SocketcandEndpoint socketcand;   // socketcand
  SocketCanEndpoint socketcan;     // socketcan
  int serve = 0;                   // can-virtual: also served over socketcand on 127.0.0.1:serve
  std::string serve_address = "127.0.0.1";
  std::string map;
  std::string map_where;
  int modules = 0;
  bool log = true;                 // the run's bus log (DIR/can-<bus>.log) gets its frames
};

// A new endpoint on the link's bus for `device` (each device, and a simulator's own node, gets its own).
// Virtual buses and the bus logs are the bench's own (Bench::parts), so two runs in one process
// (Python) neither share a bus nor log each other's frames.
std::shared_ptr<CanBus> make_bus(const CanLink& link, const std::string& device, Bench& bench);
// The bench's bus logs (what CanLogSink listens to), and its virtual bus of a name.
std::shared_ptr<CanTraffic> bench_traffic(Bench& bench);
std::shared_ptr<VirtualCanHub> bench_hub(Bench& bench, const std::string& name);
// The virtual bus a device's link names.
std::string virtual_bus_name(const CanLink& link, const std::string& device);
// The bus `link` names for `device`, claimed for it on the bench: a second device on the same bus
// (the same ids from two packs, each obeying the other's commands) is refused at the station entry.
void claim_bus(DeviceBuildContext& c, const CanLink& link, const std::string& device, const ConfigNode& where);
// The map's path, as for Modbus maps: a file relative to the station, or NAME looked up as
// ../can/NAME.yaml beside the station and in the project's fixtures/can/.
std::string resolve_can_map(const CanLink& link, const std::string& default_name, const std::string& station_file);

}  // namespace zhil::can
