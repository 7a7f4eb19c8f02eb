#pragma once
// `zhil can replay` and `zhil can decode`: candump logs (a run's DIR/can-<bus>.log, or can-utils'
// own) played onto a bus, or decoded into signals by a DBC file.
#include <string>
#include <vector>

namespace zhil::lab {

struct CanReplayOptions {
  std::string log;
  std::string socketcand;  // HOST:PORT of a socketcand server
  std::string interface;   // a SocketCAN interface of this machine
  std::string bus = "can0";  // the bus to open on the socketcand server
  double speed = 1.0;      // 2: twice as fast
};
// Plays the log's frames with the log's spacing (real time / speed). Returns the exit code.
int run_can_replay(const CanReplayOptions& o);

// Serves empty virtual buses over socketcand on HOST:PORT until SIGINT/SIGTERM (a bus for external
// tools and a station's socketcand link to meet on). Returns the exit code.
int run_can_serve(const std::string& socketcand, const std::vector<std::string>& buses);

// Prints "time,bus,id,message,signal,value,unit" for every signal of every frame the DBC knows;
// frames it does not know are counted on stderr. Returns the exit code (2: unreadable input).
int run_can_decode(const std::string& log, const std::string& dbc);

}  // namespace zhil::lab
