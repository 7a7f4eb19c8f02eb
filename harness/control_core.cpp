#include "harness/control_core.hpp"

#include <algorithm>
#include <stdexcept>

#include "harness/control/acceptance_sequencer.hpp"
#include "harness/control/reference_energy_manager.hpp"

namespace zhil {

SignalId CoreIo::input(const std::string& name) const {
  SignalId id = signals_.find(name);
  if (id == kNoSignal) throw std::runtime_error("control core: no signal '" + name + "' on this station");
  return id;
}

SignalId CoreIo::command(const std::string& name) const {
  SignalId id = input(name);
  if (signals_.info(id).kind != SignalKind::command)
    throw std::runtime_error("control core: '" + name + "' is a " + to_string(signals_.info(id).kind) +
                             ", not a command");
  return id;
}

SignalId CoreIo::publish(const std::string& name, const std::string& unit) {
  SignalId id;
  if (auto s = signals_.add(name, unit, SignalKind::measurement, "core", &id); !s) throw std::runtime_error(s.message());
  own_.push_back(id);
  return id;
}

void CoreIo::set(SignalId id, double value) {
  if (id >= signals_.size()) throw std::logic_error("control core wrote an unknown signal id " + std::to_string(id));
  if (signals_.info(id).kind != SignalKind::command &&
      std::find(own_.begin(), own_.end(), id) == own_.end())
    throw std::logic_error("control core wrote '" + signals_.info(id).name + "', which is not a command");
  signals_.set(id, value, now_);
}

namespace {

// A core that commands nothing: the commands keep what the host writes (Python's run.set, a
// scenario-driven test of the envelope), through the envelope as ever. Also the baseline that the
// Python-core benchmark measures a Python core's overhead against.
class ManualCore final : public ControlCore {
 public:
  void configure(const CoreContext&, CoreIo&) override {}
  void step(Time, CoreIo&) override {}
};

}  // namespace

CoreRegistry& CoreRegistry::instance() {
  static CoreRegistry registry = [] {
    CoreRegistry r;
    r.add("reference", [] { return std::make_unique<ReferenceEnergyManager>(); });
    r.add("manual", [] { return std::make_unique<ManualCore>(); });
    r.add("acceptance", [] { return std::make_unique<AcceptanceSequencer>(); });
    return r;
  }();
  return registry;
}

void CoreRegistry::add(const std::string& name, Factory factory) { factories_[name] = std::move(factory); }

bool CoreRegistry::remove(const std::string& name) { return factories_.erase(name) > 0; }

std::unique_ptr<ControlCore> CoreRegistry::create(const std::string& name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second();
}

std::vector<std::string> CoreRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : factories_) out.push_back(n);
  return out;
}

}  // namespace zhil
