#include "devices/sim/simulated_pack_device.hpp"

#include <cstdio>

#include "harness/checkpoint/state_archive.hpp"
#include "harness/device_roles.hpp"

namespace zhil::sim {

namespace {
const Status kNoReply = Status::error("no reply from the BMS (simulated communication loss)");
}

Status SimulatedPackDevice::on_configure(DeviceContext& c) {
  namespace r = roles::pack;
  SignalTable& t = c.signals;
  if (auto s = add_measurements(t, {
      {r::v, "V", &v_}, {r::i, "A", &i_}, {r::p, "W", &p_}, {r::soc, "1", &soc_},
      {r::soc_module_min, "1", &soc_min_}, {r::soc_module_max, "1", &soc_max_}, {r::t_max, "degC", &t_max_},
      {r::v_module_max, "V", &vm_max_}, {r::v_module_min, "V", &vm_min_}, {r::i_charge_limit, "A", &i_ch_},
      {r::i_discharge_limit, "A", &i_dis_}, {r::contactor, "1", &contactor_}, {r::strip_due, "1", &strip_due_},
      {r::stripping, "1", &stripping_}, {r::state, "1", &state_}, {r::alarms, "1", &alarms_},
      {r::zn_loading, "1", &zn_}, {r::energy_available, "Wh", &energy_},
      }); !s)
    return s;
  for (std::size_t k = 0; k < model_.modules().size(); ++k) {
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "m%02zu.", k + 1);
    ModuleIds ids{};
    const std::string p = prefix;
    if (auto s = add_measurements(t, {{(p + "v").c_str(), "V", &ids.v}, {(p + "soc").c_str(), "1", &ids.soc},
                                      {(p + "t").c_str(), "degC", &ids.t}, {(p + "zn").c_str(), "1", &ids.zn}});
        !s)
      return s;
    if (!modules_.empty() && ids.v != modules_.back().v + 4) return Status::error("module signals not in one run");
    if (ids.soc != ids.v + 1 || ids.t != ids.v + 2 || ids.zn != ids.v + 3)
      return Status::error("module signals not in one run");
    modules_.push_back(ids);
  }
  if (auto s = add_command(t, r::contactor_cmd, "1", &contactor_cmd_, {0, 1}); !s) return s;
  if (auto s = add_command(t, r::strip_request, "1", &strip_request_, {0, 1}); !s) return s;
  if (auto s = add_limit(t, r::i_charge_allowed, "A", &i_ch_allowed_); !s) return s;
  if (auto s = add_limit(t, r::i_discharge_allowed, "A", &i_dis_allowed_); !s) return s;
  if (auto s = add_stimulus(t, "ambient_c", "degC", &ambient_, model_.params().ambient_c); !s) return s;
  if (auto s = add_stimulus(t, "fault.cooling_loss", "1", &cooling_loss_, 1.0); !s) return s;
  if (auto s = add_stimulus(t, "fault.internal_short", "1", &internal_short_); !s) return s;
  if (auto s = add_stimulus(t, "fault.comm_loss", "1", &comm_loss_); !s) return s;
  return Status::ok();
}

Status SimulatedPackDevice::read_now(Time) { return comm_lost_ ? kNoReply : Status::ok(); }

void SimulatedPackDevice::on_publish(Time, SignalTable& t) {
  const PackModel& m = model_;
  t.set_value(v_, m.voltage());
  t.set_value(i_, m.current());
  t.set_value(p_, m.voltage() * m.current());
  t.set_value(soc_, m.soc());
  t.set_value(soc_min_, m.soc_module_min());
  t.set_value(soc_max_, m.soc_module_max());
  t.set_value(t_max_, m.t_max());
  t.set_value(vm_max_, m.v_module_max());
  t.set_value(vm_min_, m.v_module_min());
  t.set_value(i_ch_, m.charge_current_limit());
  t.set_value(i_dis_, m.discharge_current_limit());
  t.set_value(contactor_, m.contactor_closed() ? 1.0 : 0.0);
  t.set_value(strip_due_, m.strip_due() ? 1.0 : 0.0);
  t.set_value(stripping_, m.stripping() ? 1.0 : 0.0);
  t.set_value(state_, static_cast<double>(m.state()));
  t.set_value(alarms_, static_cast<double>(m.alarms()));
  t.set_value(zn_, m.zn_max());
  t.set_value(energy_, m.energy_available_wh());
  const auto& mods = m.modules();
  // The per-module readings were registered as one run (v, soc, t, zn per module, in order).
  double* out = t.values_from(modules_.front().v);
  for (const Module& mod : mods) {
    out[0] = mod.v;
    out[1] = mod.soc;
    out[2] = mod.t_c;
    out[3] = mod.zn;
    out += 4;
  }
}

void SimulatedPackDevice::on_stimuli(Time, const SignalTable& t) {
  model_.set_ambient(t.value(ambient_));
  model_.set_cooling_loss(t.value(cooling_loss_));
  model_.set_internal_short(t.value(internal_short_) > 0.5);
  comm_lost_ = t.value(comm_loss_) > 0.5;
}

Status SimulatedPackDevice::write_now(Time, const SignalTable& t) {
  if (comm_lost_) return kNoReply;
  model_.set_allowed_currents(t.value(i_ch_allowed_), t.value(i_dis_allowed_));
  model_.set_contactor_command(t.value(contactor_cmd_) > 0.5);
  model_.request_strip(t.value(strip_request_) > 0.5);
  return Status::ok();
}

Status SimulatedPackDevice::safe_state_now() {
  if (comm_lost_) return kNoReply;
  model_.enter_safe_state();
  return Status::ok();
}

SafeStateReport SimulatedPackDevice::verify_now() {
  if (comm_lost_) return {false, "no reply from the BMS (simulated communication loss)"};
  const bool open = !model_.contactor_closed();
  const bool no_current = model_.current() == 0.0;
  return {open && no_current, std::string("contactor ") + (open ? "open" : "CLOSED") + ", current " +
                                  std::to_string(model_.current()) + " A"};
}

}  // namespace zhil::sim

// ---- registration: model "pack-simulator"
#include "devices/sim/simulator_faces.hpp"
#include "devices/sim/simulator_params.hpp"

namespace zhil::sim {
namespace {
const DeviceRegistration kPackSimulator("pack-simulator", {
    "pack", "zinc-halogen pack simulator (BMS, per-module physics, strip cycle)", /*build_order=*/0,
    [](DeviceBuildContext& c) {
      const PackParams params = load_pack_params(c.device.params, &c.bench.input_files);
      SiteSimulator& site = site_of(c);
      // Bounded as a whole, not per pack: 4,096 packs of 1,000 modules would exhaust memory.
      constexpr long kMaxSiteModules = 65536;
      if (site.total_modules() + params.modules > kMaxSiteModules)
        c.device.entry.fail("the simulated site would have more than " + std::to_string(kMaxSiteModules) +
                            " pack modules in all (" + c.device.name + " adds " + std::to_string(params.modules) + ")");
      c.bench.memory_bytes += 4096 + 512 * static_cast<std::uint64_t>(params.modules);
      PackModel& m = site.add_pack(c.device.name, params, c.seed);
      return SimulatorFaces::instance().reach(c, &m);
    }});
}  // namespace

void SimulatedPackDevice::state_more(StateWriter& a) { a(comm_lost_); }
void SimulatedPackDevice::state_more(StateReader& a) { a(comm_lost_); }

}  // namespace zhil::sim
