#pragma once
// The signal vocabulary of each device role: the contract between drivers and simulators (which
// publish and consume these) and control cores, envelope, scenarios and checks (which use them).
// A signal's full name is "<device>.<suffix>", e.g. "pack1.soc", "inv1.p_set". Sign conventions:
// pack current and power are positive when charging; inverter AC power is positive when exporting
// (discharging the packs); grid import is positive when the site draws from the grid.
namespace zhil::roles {

namespace pack {
constexpr const char* kRole = "pack";
// measurements
constexpr const char* v = "v";                          // V, pack terminal voltage
constexpr const char* i = "i";                          // A, + charging
constexpr const char* p = "p";                          // W, + charging
constexpr const char* soc = "soc";                      // 1, pack SOC (mean of modules)
constexpr const char* soc_module_min = "soc_module_min";  // 1
constexpr const char* soc_module_max = "soc_module_max";  // 1
constexpr const char* t_max = "t_max";                  // degC, hottest module electrolyte
constexpr const char* v_module_max = "v_module_max";    // V
constexpr const char* v_module_min = "v_module_min";    // V
constexpr const char* i_charge_limit = "i_charge_limit";        // A, BMS-reported, >= 0
constexpr const char* i_discharge_limit = "i_discharge_limit";  // A, BMS-reported, >= 0
constexpr const char* contactor = "contactor";          // 1 closed, 0 open
constexpr const char* strip_due = "strip_due";          // 1 when a maintenance strip is due
constexpr const char* stripping = "stripping";          // 1 during maintenance discharge or strip
constexpr const char* state = "state";                  // BMS state code, below
// BMS state codes, as the Redflow ZBM BMS numbers them (domain.md §2).
constexpr double state_safe_shutdown = 700;
constexpr double state_run = 702;
constexpr double state_maintenance_discharge = 712;
constexpr double state_anode_strip = 713;
constexpr const char* alarms = "alarms";                // bit field, see devices/sim/pack_alarms.hpp
constexpr const char* zn_loading = "zn_loading";        // 1, worst module, equivalent cycles since strip
constexpr const char* energy_available = "energy_available";  // Wh dischargeable now
// commands
constexpr const char* contactor_cmd = "contactor_cmd";  // 1 close, 0 open
constexpr const char* strip_request = "strip_request";  // 1 to start a maintenance strip
// limits, written by the safety envelope only: the station's current limits for this pack now (0 outside
// its SOC or temperature window); the pack's reported limits never exceed them
constexpr const char* i_charge_allowed = "i_charge_allowed";        // A, >= 0
constexpr const char* i_discharge_allowed = "i_discharge_allowed";  // A, >= 0
}  // namespace pack

namespace inverter {
constexpr const char* kRole = "inverter";
constexpr const char* p_ac = "p_ac";                    // W, + export
constexpr const char* q_ac = "q_ac";                    // var
constexpr const char* p_dc = "p_dc";                    // W, + drawn from packs
constexpr const char* mode = "mode";                    // 0 off, 1 grid-following, 2 grid-forming, 3 tripped
constexpr const char* tripped = "tripped";              // 1 when tripped
constexpr const char* p_available_discharge = "p_available_discharge";  // W (AC) from pack limits
constexpr const char* p_available_charge = "p_available_charge";        // W (AC) from pack limits
constexpr const char* p_droop = "p_droop";              // W, frequency-watt response asked for
// W, the part of that response delivered in p_ac: less than p_droop when the inverter is at a
// limit (its rating, the packs', the envelope's)
constexpr const char* p_droop_delivered = "p_droop_delivered";
// commands (the core writes these; devices read "<name>.applied", what the envelope let through)
constexpr const char* p_set = "p_set";                  // W
constexpr const char* q_set = "q_set";                  // var
constexpr const char* grid_forming_enable = "grid_forming_enable";  // 1 to island on outage
// limits, written by the safety envelope only: bounds on everything the inverter outputs (setpoint, droop,
// island), as SunSpec's WMaxLimPct bounds a DER
constexpr const char* p_limit_discharge = "p_limit_discharge";  // W, >= 0
constexpr const char* p_limit_charge = "p_limit_charge";        // W, >= 0
}  // namespace inverter

namespace grid {
constexpr const char* kRole = "grid";
constexpr const char* v_pu = "v_pu";                    // 1, per unit of nominal
constexpr const char* f = "f";                          // Hz
constexpr const char* available = "available";          // 1 when the utility is there
constexpr const char* p_import = "p_import";            // W, + import
// stimuli
constexpr const char* v_pu_set = "v_pu_set";
constexpr const char* f_set = "f_set";
constexpr const char* outage = "outage";
}  // namespace grid

namespace load {
constexpr const char* kRole = "load";
constexpr const char* p = "p";                          // W drawn from the site bus
constexpr const char* p_demand = "p_demand";            // W the IT load wants
constexpr const char* p_unserved = "p_unserved";        // W wanted but not supplied
constexpr const char* on_backup = "on_backup";          // 1 while transferred to its own backup (ITIC)
// stimuli
constexpr const char* p_demand_set = "p_demand_set";
}  // namespace load

}  // namespace zhil::roles
