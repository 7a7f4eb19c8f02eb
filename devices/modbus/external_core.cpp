// `core: external`: the control core under test is another program (the real EMS) that reads and
// commands the devices itself over Modbus TCP, at the ports the station's links `serve` on
// (simulated_modbus_device.hpp, "external face"). This core writes nothing: zhil runs the
// scenario's grid, load and fault events, records every signal, bounds what the external program
// writes with the safety envelope and evaluates the checks. Real time only in this version (the
// lock-step map for simulated time is not there yet).
#include "harness/config/config_error.hpp"
#include "harness/config/station_config.hpp"
#include "harness/control_core.hpp"

namespace zhil::modbus {
namespace {

class ExternalCore final : public ControlCore {
 public:
  void configure(const CoreContext& c, CoreIo&) override {
    if (ConfigNode n = c.params.get("lockstep"); n.defined())
      n.fail("lock-step simulated time for an external core is not available yet: run it in real time");
    if (!c.real_time)
      throw ConfigError(c.station.core_where + ": core: external is another program on the wall clock: run with --realtime "
                        "(lock-step simulated time is not available yet)");
  }
  void step(Time, CoreIo&) override {}
};

struct Registration {
  Registration() { CoreRegistry::instance().add("external", [] { return std::make_unique<ExternalCore>(); }); }
  ~Registration() { CoreRegistry::instance().remove("external"); }
} const kExternal;

}  // namespace
}  // namespace zhil::modbus
