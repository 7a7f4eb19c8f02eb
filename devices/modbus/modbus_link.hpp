#pragma once
// The station's Modbus links (labgrid's resources: where a device is, apart from how to talk to it):
//   link: {type: modbus-tcp, host: 10.0.0.7, port: 502, unit: 1}
//   link: {type: modbus-rtu, device: /dev/ttyUSB0, baud: 19200, parity: N, stop_bits: 1, units: 1..16}
//   link: {type: modbus-tcp}      # a simulator: served by zhil on 127.0.0.1 (a free port)
// with, for either, timeout (500 ms), retries (1), backoff (200 ms .. 5 s), rewrite (10 s: how
// often an unchanged command is written again) and map (a register map: a file, relative to the
// station, or a name in fixtures/modbus/). `proxy: true` puts zhil's in-line proxy between the driver
// and a real TCP device, so that the scenario's protocol faults reach real hardware too.
#include <string>
#include <vector>

#include "devices/modbus/modbus_transport.hpp"
#include "harness/link.hpp"

namespace zhil::modbus {

struct ModbusLink final : LinkSpec {
  Endpoint endpoint;
  TransportTiming timing;
  bool served_by_zhil = false;  // modbus-tcp without host: a simulator zhil serves itself
  bool proxy = false;           // a real device reached through zhil's in-line proxy (fault injection)
  int serve = 0;                // a simulator: also served on 127.0.0.1:serve to an external control core
  std::vector<int> units;       // empty: the default (unit 1; a per-module map: one per module)
  std::string map;              // path of the register map ("" : the model's default)
  std::string map_where;
  Duration rewrite{std::chrono::seconds(10)};
};

// The map's path: `map` as given (relative to the station's folder), or a name looked up as
// ../modbus/NAME.yaml from there and then from the project's fixtures.
std::string resolve_map_path(const ModbusLink& link, const std::string& default_name, const std::string& station_file);

}  // namespace zhil::modbus
