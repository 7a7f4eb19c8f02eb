#pragma once
// What a pack's CAN frames mean to zhil, as data (fixtures/can/*.yaml), beside the DBC file that
// lays them out: which DBC signal feeds which harness signal, which commands and limits go out in
// which frame, and the safe state. The driver and the simulator read the same map, as the Modbus
// register maps are read by both, so they agree on the protocol because they read the same files.
//
//   map: zinc-halogen-hv
//   dbc: zinc-halogen-hv.dbc                    # relative to this file
//   signals:
//     - {signal: ZH_Status.PackVoltage, reads: v, unit: V}
//     - {signal: ZH_Status.SOC, reads: soc, factor: 0.01, unit: "1"}         # % -> fraction
//     - {signal: "ZH_Module.M{unit}_Voltage", reads: "m{unit}.v", unit: V}  # per module (01..N)
//     - {signal: ZH_Command.ContactorRequest, writes: contactor_cmd, safe: 0}
//     - {signal: ZH_Command.ChargeCurrentAllowed, limit: i_charge_allowed, unit: A, safe: 0}
//     - {signal: ZH_Command.ChargeEnable, init: 1, safe: 0}    # a constant in every command frame
//     - {signal: ZH_Command.CommandCounter, counter: true}     # +1 in every frame the sender sends
//     - {signal: ZH_State.AliveCounter, heartbeat: 2 s}         # a receiver's frozen-data check
//     - {signal: ZH_Identity.SerialNumber, identity: true}
//     - {signal: BMS_Name.ManufacturerName, identity: text}     # bytes as ASCII
// value in zhil = DBC physical value * factor. A reading's message must keep arriving within its
// DBC timeout (GenMsgTimeout, else 3 cycles) unless `required: false`.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "devices/can/dbc.hpp"
#include "harness/time.hpp"

namespace zhil::can {

enum class CanRole : std::uint8_t { reads, writes, limit, init, counter, heartbeat, identity };

struct CanMapEntry {
  std::string where;      // file:line:column
  std::string dotted;     // "ZH_Status.PackVoltage" (expanded for a module)
  CanRole role = CanRole::reads;
  std::string signal;     // the harness signal suffix ("v", "m01.v"); "" for init/counter/heartbeat/identity
  std::string unit = "1";
  double factor = 1.0;
  double init_value = 0;  // init: the constant
  bool has_safe = false;
  double safe = 0;
  bool has_safe_when = false;
  double safe_lo = 0, safe_hi = 0;
  bool required = true;
  bool text = false;      // identity: the signal's bytes as ASCII
  // A gateway forwarding this reading's frame clamps it to this limit the envelope sets
  // (`clamp_to: i_charge_allowed`): a BMS's charge current limit rewritten to the bench's.
  std::string clamp_to;
  Duration heartbeat{0};
  int module = 0;         // per-module entries: 1..N
  const DbcMessage* message = nullptr;
  const DbcSignal* dbc_signal = nullptr;
  // The valid range in zhil's units (the DBC's [min|max] times factor; none if the DBC gives none).
  double lo() const;
  double hi() const;
};

struct CanMap {
  std::string name;
  std::string file;
  std::string description;
  std::shared_ptr<const Dbc> dbc;
  std::vector<CanMapEntry> entries;  // expanded: one per module for templates
  // Messages the map reads (received by a driver, sent by a simulator) and sends (commands).
  std::vector<const DbcMessage*> read_messages, command_messages;
  // Per message, the indices of its entries; and the read messages a required reading depends on
  // (worked out once: a receiver looks them up for every frame and every cycle).
  std::map<const DbcMessage*, std::vector<std::size_t>> entries_of;
  std::vector<const DbcMessage*> required_messages;
  // How long a receiver waits for a message before its signals go stale.
  static Duration timeout_of(const DbcMessage& m);
  // Frames per second on the bus: the read messages at their cycle times (a multiplexed one once
  // per multiplexer value the map uses), the command messages once per `command_cycle`.
  double frames_per_second(Duration command_cycle) const;
};

// Loads the map with its DBC and expands per-module entries for `modules` modules. Errors throw
// ConfigError at file:line:column (an unknown message or signal names the DBC file too).
CanMap load_can_map(const std::string& path, int modules);

}  // namespace zhil::can
