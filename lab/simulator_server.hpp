#pragma once
// `zhil sim inverter|pack`: one simulator served standalone over Modbus, in real time, on
// 127.0.0.1 (TCP) or a serial line (RTU), or a pack on a virtual CAN bus named can0 served over
// socketcand (--socketcand), until SIGINT or SIGTERM, for external tools and for a
// control core under development to talk to. It is the simulator a station gets with
// `link: {type: modbus-tcp}`, with the same register maps, on its own small site (a grid, and for
// the inverter a pack on its DC bus), advanced every 100 ms of wall time.
#include <string>

namespace zhil::lab {

struct SimulatorServerOptions {
  std::string kind;             // "pack" or "inverter"
  int port = 0;                 // TCP port on 127.0.0.1 (0: a free one, printed)
  std::string address = "127.0.0.1";
  std::string map = "sunspec";  // pack: sunspec or zinc-bromine (or a map file)
  int unit = 1;                 // the first unit id
  std::string rtu;              // serial device: RTU instead of TCP
  int baud = 19200;
  std::string fixture;          // pack or inverter parameters (default: the project's)
  std::string socketcand;       // pack: HOST:PORT: on a virtual CAN bus "can0" served over socketcand instead
  std::string can_map = "zinc-halogen-hv";  // the CAN map (fixtures/can/NAME.yaml, or a file)
  std::string root;             // project root (maps, default fixtures)
};

// Returns the process exit code (0 after a clean stop by signal).
int run_simulator_server(const SimulatorServerOptions& options);

}  // namespace zhil::lab
