#include "devices/modbus/simulator_registers.hpp"

#include "devices/modbus/read_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

namespace zhil::modbus {

namespace {


// The models a simulator presents, in an order that puts what is read every cycle close together:
// the common model first (SunSpec requires it), then the models with nothing read every cycle
// (ratings, controls), then those with readings in the order that needs the fewest read requests
// per cycle (at most 7! orders tried, the first best kept: deterministic). A driver finds the order
// by discovery, as on any device.
std::vector<int> models_of(const RegisterMap& map) {
  std::vector<int> all;
  for (int id : map.required_models) all.push_back(id);
  for (const MapEntry& e : map.entries)
    if (e.model && std::find(all.begin(), all.end(), e.model) == all.end()) all.push_back(e.model);
  std::vector<int> head, cycle;
  for (int id : all) {
    const bool read = std::any_of(map.entries.begin(), map.entries.end(),
                                  [&](const MapEntry& e) { return e.model == id && e.role == EntryRole::reads; });
    (read && id != 1 ? cycle : head).push_back(id);
  }
  std::sort(cycle.begin(), cycle.end());
  if (cycle.size() > 7) {
    head.insert(head.end(), cycle.begin(), cycle.end());
    return head;
  }
  std::vector<int> best;
  std::size_t best_runs = ~std::size_t{0};
  do {
    std::vector<int> order = head;
    order.insert(order.end(), cycle.begin(), cycle.end());
    const SunSpecLayout l = lay_out_models(*map.models, order);
    RegisterMap r;
    if (!resolve_map(map, l, &r)) continue;
    const std::size_t runs = plan_reads(r, {ReadableBlock{l.base, l.end + 1}}, ReadSet::cycle).size();
    if (runs < best_runs) best_runs = runs, best = order;
  } while (std::next_permutation(cycle.begin(), cycle.end()));
  return best.empty() ? all : best;
}

}  // namespace

SimulatorRegisters::SimulatorRegisters(std::shared_ptr<const RegisterMap> map, std::vector<int> units,
                                       std::unique_ptr<Device> simulator)
    : map_(std::move(map)), units_(std::move(units)), sim_(std::move(simulator)) {
  int lo = 65536, hi = 0;
  if (map_->sunspec) {
    layout_ = lay_out_models(*map_->models, models_of(*map_));
    if (auto s = resolve_map(*map_, layout_, &resolved_); !s) throw std::runtime_error(s.message());
    lo = layout_.base;
    hi = layout_.end + 2;
  } else {
    resolved_ = *map_;
    for (const MapEntry& e : resolved_.entries) lo = std::min(lo, e.address), hi = std::max(hi, e.address + e.format.words);
    for (const ReadableBlock& b : resolved_.blocks) lo = std::min(lo, b.first), hi = std::max(hi, b.last + 1);
  }
  RegisterWindow w{lo, std::vector<std::uint16_t>(static_cast<std::size_t>(hi - lo), 0)};
  readable_.assign(w.regs.size(), 0);
  writable_.assign(w.regs.size(), 0);
  if (map_->sunspec) {
    w.regs[0] = 0x5375;
    w.regs[1] = 0x6E53;
    for (const ModelInstance& m : layout_.models) {
      const SunSpecModel* def = map_->models->find(m.id);
      for (const SunSpecPoint& p : def->points) {
        auto span = w.at(m.address + p.offset, p.format.words);
        if (p.name == "ID") span[0] = static_cast<std::uint16_t>(m.id);
        else if (p.name == "L") span[0] = static_cast<std::uint16_t>(m.length);
        else encode_not_implemented(p.format, span);
        if (p.writable)
          for (int r = 0; r < p.format.words; ++r) writable_[static_cast<std::size_t>(m.address + p.offset + r - lo)] = 1;
      }
      // Group counts (NCtl): one instance of every repeating group is laid out.
      for (const SunSpecPoint& p : def->points)
        if (!p.group_count.empty())
          if (const SunSpecPoint* c = def->find(p.group_count)) w.at(m.address + c->offset, 1)[0] = 1;
    }
    w.at(layout_.end, 2)[0] = 0xFFFF;
    w.at(layout_.end, 2)[1] = 0;
    std::fill(readable_.begin(), readable_.end(), 1);
  } else {
    for (const ReadableBlock& b : resolved_.blocks)
      for (int a = b.first; a <= b.last; ++a) readable_[static_cast<std::size_t>(a - lo)] = 1;
    for (const MapEntry& e : resolved_.entries)
      for (int r = 0; r < e.format.words; ++r) {
        readable_[static_cast<std::size_t>(e.address + r - lo)] = 1;
        if (e.writable) writable_[static_cast<std::size_t>(e.address + r - lo)] = 1;
      }
  }
  windows_.assign(units_.size(), w);
}

SimulatorRegisters::~SimulatorRegisters() = default;

std::size_t SimulatorRegisters::index_of(int unit) const {
  for (std::size_t k = 0; k < units_.size(); ++k)
    if (units_[k] == unit) return k;
  return 0;
}

bool SimulatorRegisters::has_unit(int unit) const {
  return std::find(units_.begin(), units_.end(), unit) != units_.end();
}

Status SimulatorRegisters::configure(Clock& clock, Duration watchdog) {
  clock_ = &clock;
  DeviceContext ctx{table_, clock, watchdog};
  sim_->set_observer(this, 0);
  if (auto s = sim_->configure(ctx); !s) return s;
  const std::string prefix = sim_->name() + ".";
  signal_of_.assign(resolved_.entries.size(), std::vector<SignalId>(units_.size(), kNoSignal));
  for (std::size_t k = 0; k < resolved_.entries.size(); ++k) {
    const MapEntry& e = resolved_.entries[k];
    for (std::size_t u = 0; u < units_.size(); ++u) {
      std::string name;
      switch (e.role) {
        case EntryRole::reads:
          name = prefix + (units_.size() > 1 && !e.per_unit.empty() ? per_unit_signal(e.per_unit, units_[u]) : e.signal);
          break;
        case EntryRole::writes: name = prefix + e.signal + ".applied"; break;
        case EntryRole::limit: name = prefix + e.signal; break;
        default: continue;
      }
      signal_of_[k][u] = table_.find(name);
    }
  }
  // The command points the simulator implements read back their value (0 until written), as on a
  // device; the ones it does not keep their not-implemented pattern, so a driver leaves them out.
  for (std::size_t k = 0; k < resolved_.entries.size(); ++k) {
    const MapEntry& e = resolved_.entries[k];
    // One-off points (init, watchdog) are kept as written; the simulator's own watchdog is the
    // station's, on the plant's time.
    const bool one_off = e.role == EntryRole::init || e.role == EntryRole::watchdog;
    if (!e.written() || !e.resolved() || (!one_off && signal_of_[k][0] == kNoSignal)) continue;
    for (std::size_t u = 0; u < windows_.size(); ++u) {
      RegisterWindow& w = windows_[u];
      const double v = one_off ? 0.0 : table_.value(signal_of_[k][u]);
      (void)encode_value(e, v, sf_power_of(e, w), percent_base_of(resolved_, e, w), w);
    }
  }
  stimuli_.clear();
  for (SignalId id = 0; id < table_.size(); ++id)
    if (table_.info(id).kind == SignalKind::stimulus) stimuli_.push_back({table_.info(id).name.substr(prefix.size()), id});
  return Status::ok();
}

std::vector<std::pair<std::string, std::string>> SimulatorRegisters::stimuli() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [suffix, id] : stimuli_) out.push_back({suffix, table_.info(id).unit});
  return out;
}

void SimulatorRegisters::set_stimulus(const std::string& suffix, double value) {
  for (const auto& [s, id] : stimuli_)
    if (s == suffix) table_.set_value(id, value);
}

double SimulatorRegisters::stimulus(const std::string& suffix) const {
  for (const auto& [s, id] : stimuli_)
    if (s == suffix) return table_.value(id);
  return 0.0;
}

void SimulatorRegisters::apply_stimuli(Time now) { sim_->apply_stimuli(now, table_); }

Status SimulatorRegisters::activate(Time now) {
  if (sim_->state() == DeviceState::active) return Status::ok();
  sim_->start_activate(now);
  if (sim_->state() != DeviceState::active) return Status::error("simulator " + sim_->name() + " did not power up: " + sim_->last_error());
  return Status::ok();
}

void SimulatorRegisters::deactivate() {
  if (sim_->state() == DeviceState::active) sim_->deactivate();
}

void SimulatorRegisters::detach() {
  deactivate();
  sim_->detach();
  clock_ = nullptr;
}

Status SimulatorRegisters::set_point(const std::string& name, double value) {
  for (const MapEntry& e : resolved_.entries)
    if (e.name == name && e.resolved()) {
      for (RegisterWindow& w : windows_)
        if (auto s = encode_value(e, value, sf_power_of(e, w), percent_base_of(resolved_, e, w), w); !s) return s;
      return Status::ok();
    }
  // A SunSpec point the map does not list (a scale factor, a rating): by its definition.
  const SunSpecModel* def = nullptr;
  const ModelInstance* m = nullptr;
  if (const SunSpecPoint* p = find_point(name, &def, &m)) {
    {
      for (RegisterWindow& w : windows_) {
        RegisterFormat f = p->format;
        // A point with a scale factor takes its value in its own units: raw = value / 10^sf.
        double raw = value;
        if (!p->sf.empty())
          if (const SunSpecPoint* sf = def->find(p->sf)) {
            MapEntry tmp;
            tmp.scale_address = m->address + sf->offset;
            const double pw = sf_power_of(tmp, w);
            if (!std::isfinite(pw)) return Status::error(name + ": set its scale factor " + p->sf + " first");
            raw = value / pw;
          }
        if (auto s = encode_raw(f, raw, w.at(m->address + p->offset, f.words)); !s) return Status::error(name + ": " + s.message());
      }
      return Status::ok();
    }
  }
  return Status::error("no point " + name + " in map " + map_->name);
}

const SunSpecPoint* SimulatorRegisters::find_point(const std::string& name, const SunSpecModel** def,
                                                  const ModelInstance** where) const {
  const auto dot = name.find('.');
  if (!map_->sunspec || dot == std::string::npos) return nullptr;
  const int model = std::atoi(name.substr(0, dot).c_str());
  *where = layout_.find(model);
  *def = map_->models->find(model);
  return *where && *def ? (*def)->find(name.substr(dot + 1)) : nullptr;
}

Status SimulatorRegisters::set_string(const std::string& name, const std::string& text) {
  const SunSpecModel* def = nullptr;
  const ModelInstance* m = nullptr;
  {
    const SunSpecPoint* p = find_point(name, &def, &m);
    if (p && p->format.type == RegisterType::string) {
      for (RegisterWindow& w : windows_) encode_string(text, w.at(m->address + p->offset, p->format.words));
      return Status::ok();
    }
  }
  for (const MapEntry& e : resolved_.entries)
    if (e.name == name && e.format.type == RegisterType::string && e.resolved()) {
      for (RegisterWindow& w : windows_) encode_string(text, w.at(e.address, e.format.words));
      return Status::ok();
    }
  return Status::error("no string point " + name + " in map " + map_->name);
}

void SimulatorRegisters::refresh(int unit) {
  if (!clock_ || sim_->state() != DeviceState::active) return;
  const Time now = clock_->now();
  last_ok_ = false;
  if (!sim_->start_read(now) || sim_->busy() || !last_ok_) return;  // no answer from the model: registers keep their values
  sim_->publish(now, table_);
  const std::size_t u = index_of(unit);
  RegisterWindow& w = windows_[u];
  // Several entries may read one register (a module's SOC and the pack's lowest, a state code and
  // the contactor it implies): the first entry of a register presents it, the others are views of
  // it (a bit of a bit field is set in place).
  std::vector<char> presented(w.regs.size(), 0);
  for (std::size_t k = 0; k < resolved_.entries.size(); ++k) {
    const MapEntry& e = resolved_.entries[k];
    if (e.resolved() && e.bit < 0 && e.role == EntryRole::reads) {
      const std::size_t at = static_cast<std::size_t>(e.address - w.base);
      if (presented[at]) continue;
      for (int r = 0; r < e.format.words; ++r) presented[at + static_cast<std::size_t>(r)] = 1;
    }
    if (e.heartbeat > Duration{0} && e.resolved()) {
      // Incremented every second, as devices do.
      (void)encode_value(e, std::fmod(std::floor(to_seconds(now)), 65535.0), 1.0, 1.0, w);
      continue;
    }
    const SignalId id = signal_of_[k][u];
    if (e.role != EntryRole::reads || !e.resolved() || id == kNoSignal) continue;
    const double v = table_.value(id);
    if (e.bit >= 0) {
      auto span = w.at(e.address, e.format.words);
      const int word = e.format.words - 1 - e.bit / 16;  // big-endian words: the last holds bits 0..15
      const std::uint16_t mask = static_cast<std::uint16_t>(1u << (e.bit % 16));
      span[static_cast<std::size_t>(word)] = static_cast<std::uint16_t>(v != 0 ? span[static_cast<std::size_t>(word)] | mask
                                                                              : span[static_cast<std::size_t>(word)] & ~mask);
      continue;
    }
    if (!encode_value(e, v, sf_power_of(e, w), percent_base_of(resolved_, e, w), w))
      encode_not_implemented(e.format, w.at(e.address, e.format.words));  // never a wrapped value
  }
}

int SimulatorRegisters::check_read(int unit, int address, int count) const {
  const RegisterWindow& w = windows_[index_of(unit)];
  if (!w.holds(address, count)) return 2;
  for (int a = address; a < address + count; ++a)
    if (!readable_[static_cast<std::size_t>(a - w.base)]) return 2;
  return 0;
}

int SimulatorRegisters::check_write(int unit, int address, const std::uint16_t* values, int count) const {
  const RegisterWindow& w = windows_[index_of(unit)];
  if (!w.holds(address, count)) return 2;
  for (int a = address; a < address + count; ++a)
    if (!writable_[static_cast<std::size_t>(a - w.base)]) return 2;
  RegisterWindow scratch = w;
  std::copy(values, values + count, scratch.at(address, count).begin());
  for (const MapEntry& e : resolved_.entries) {
    if (!e.resolved() || e.address >= address + count || e.address + e.format.words <= address) continue;
    if (!e.written()) continue;
    Decoded d;
    if (!decode_entry(e, scratch, sf_power_of(e, scratch), percent_base_of(resolved_, e, scratch), &d)) return 3;
    if (d.present && !zhil::modbus::check_write(e, d.value)) return 3;
  }
  return 0;
}

void SimulatorRegisters::written(int unit, int address, int count) {
  if (!clock_ || sim_->state() != DeviceState::active) return;
  const std::size_t u = index_of(unit);
  const RegisterWindow& w = windows_[u];
  bool any = false;
  for (std::size_t k = 0; k < resolved_.entries.size(); ++k) {
    const MapEntry& e = resolved_.entries[k];
    if (!e.resolved() || e.address >= address + count || e.address + e.format.words <= address) continue;
    const SignalId id = signal_of_[k][u];
    if (id == kNoSignal) continue;
    Decoded d;
    if (!decode_entry(e, w, sf_power_of(e, w), percent_base_of(resolved_, e, w), &d) || !d.present) continue;
    table_.set_value(id, d.value);
    any = true;
  }
  // Every write reaches the simulator (it hears from the host), even one that changes no command.
  (void)any;
  sim_->start_write(clock_->now());
}

}  // namespace zhil::modbus
