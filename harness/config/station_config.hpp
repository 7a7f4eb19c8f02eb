#pragma once
// A station (bench) as its YAML file describes it: which devices, what each is (role and model),
// where it is and how it is reached (link: labgrid's "resource" apart from the "driver"), the limits
// the safety envelope enforces for it, and the control core the station runs.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/config/config_node.hpp"
#include "harness/link.hpp"
#include "harness/time.hpp"

namespace zhil {

struct PackLimits {
  double i_charge_max_a = 0;
  double i_discharge_max_a = 0;
  double soc_min = 0;
  double soc_max = 1;
  double t_max_c = 0;
};

struct InverterLimits {
  double p_discharge_max_w = 0;
  double p_charge_max_w = 0;
  double s_max_va = 0;
  double conversion_efficiency = 0.95;  // lowest the envelope assumes when turning DC limits into AC
  double no_load_loss_w = 0;            // highest standby loss it assumes
};

// How the run treats a device's I/O (station level, overridable per device).
struct DeviceTiming {
  // How long the acquire and write phases wait for the device; default 40 % of the cycle, so that
  // both phases fit in one cycle.
  std::optional<Duration> deadline;
  // Reads (or writes) failing, or late, for this long: the device is lost and the run ends as ERROR.
  Duration fault_after{std::chrono::seconds(2)};
  // After the safe state is commanded, how long before it is read back (a real inverter ramps).
  Duration safe_state_settle{std::chrono::milliseconds(500)};
  // Device-side communication timeout armed on activation (station key `watchdog`; 0 s: none). It
  // protects the hardware when the harness dies; it must outlast fault_after, so that while the
  // harness lives it is the harness that declares a device lost and makes the bench safe in order.
  // Default: 5 s, or twice fault_after if that is longer.
  Duration watchdog{std::chrono::seconds(5)};
  bool watchdog_given = false;
  std::string where;  // of the entry that set the deadline, for errors found at run setup
  std::string settle_where;  // of the entry that set safe_state_settle
};

struct DeviceConfig {
  std::string name;
  std::string role;   // pack, inverter, grid, load
  std::string model;  // e.g. pack-simulator; later drivers name their product here
  std::string link_type;  // in-process (simulators); modbus-tcp, socketcan, ... in later issues
  std::shared_ptr<const LinkSpec> link;  // parsed by the link type's registered parser
  DeviceTiming timing;
  ConfigNode params;
  ConfigNode entry;                // the whole device entry, for error locations
  std::vector<std::string> packs;  // inverter: the packs on its DC bus
  PackLimits pack_limits;
  InverterLimits inverter_limits;
};

// Simulator models are named "<what>-simulator" (devices/sim); every other model drives something real.
bool is_simulator_model(const std::string& model);

struct StationConfig {
  std::string name;
  std::string file;
  std::string description;
  Duration cycle{std::chrono::milliseconds(100)};
  double nominal_frequency_hz = 60.0;
  double nominal_voltage_v = 480.0;
  DeviceTiming timing;  // defaults for every device
  std::string core = "reference";
  std::string core_where;  // file:line:column of core.name
  ConfigNode core_params;
  std::vector<DeviceConfig> devices;

  std::vector<const DeviceConfig*> with_role(const std::string& role) const;
  const DeviceConfig* find(const std::string& name) const;
};

// Throws ConfigError naming file:line:column.
StationConfig load_station(const std::string& path);

}  // namespace zhil
