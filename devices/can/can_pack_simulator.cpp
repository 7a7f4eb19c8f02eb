#include "devices/can/can_pack_simulator.hpp"

#include <algorithm>
#include <cmath>

#include "devices/can/can_codec.hpp"
#include "devices/can/can_pack_driver.hpp"

namespace zhil::can {

CanPackSimulator::CanPackSimulator(std::shared_ptr<const CanMap> map, std::unique_ptr<Device> simulator,
                                   std::shared_ptr<CanBus> bus, std::string manufacturer, std::string serial)
    : map_(std::move(map)), sim_(std::move(simulator)), bus_(std::move(bus)), manufacturer_(std::move(manufacturer)) {
  std::string digits;
  for (char c : serial)
    if (c >= '0' && c <= '9') digits += c;
  serial_number_ = digits.empty() || digits.size() > 9 ? std::nan("") : std::stod(digits);
}

CanPackSimulator::~CanPackSimulator() { detach(); }

Status CanPackSimulator::configure(Clock& clock, Duration watchdog) {
  if (auto s = bus_needs_real_time(*bus_, clock); !s) return s;
  clock_ = &clock;
  DeviceContext ctx{table_, clock, watchdog};
  sim_->set_observer(this, 0);
  if (auto s = sim_->configure(ctx); !s) return s;
  const std::string prefix = sim_->name() + ".";
  signal_of_.assign(map_->entries.size(), kNoSignal);
  for (std::size_t k = 0; k < map_->entries.size(); ++k) {
    const CanMapEntry& e = map_->entries[k];
    switch (e.role) {
      case CanRole::reads: signal_of_[k] = table_.find(prefix + e.signal); break;
      case CanRole::writes: signal_of_[k] = table_.find(prefix + e.signal + ".applied"); break;
      case CanRole::limit: signal_of_[k] = table_.find(prefix + e.signal); break;
      default: break;
    }
  }
  stimuli_.clear();
  for (SignalId id = 0; id < table_.size(); ++id)
    if (table_.info(id).kind == SignalKind::stimulus) stimuli_.push_back({table_.info(id).name.substr(prefix.size()), id});
  return Status::ok();
}

std::vector<std::pair<std::string, std::string>> CanPackSimulator::stimuli() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [suffix, id] : stimuli_) out.push_back({suffix, table_.info(id).unit});
  return out;
}

void CanPackSimulator::set_stimulus(const std::string& suffix, double value) {
  for (const auto& [s, id] : stimuli_)
    if (s == suffix) table_.set_value(id, value);
}

double CanPackSimulator::stimulus(const std::string& suffix) const {
  for (const auto& [s, id] : stimuli_)
    if (s == suffix) return table_.value(id);
  return 0.0;
}

void CanPackSimulator::apply_stimuli(Time now) { sim_->apply_stimuli(now, table_); }

Status CanPackSimulator::activate(Time now) {
  if (sim_->state() != DeviceState::active) {
    sim_->start_activate(now);
    if (sim_->state() != DeviceState::active) return Status::error("simulator " + sim_->name() + " did not power up: " + sim_->last_error());
  }
  if (!open_) {
    bus_->set_receiver([this](const CanFrame& f, Time at) { on_frame(f, at); });
    if (auto s = bus_->open(*clock_); !s) return s;
    open_ = true;
  }
  for (const DbcMessage* m : map_->read_messages)
    if (!timers_.count(m)) {
      // First frames at once, then every cycle (on the run's clock: repeatable in simulated time).
      timers_[m] = clock_->call_at(now, [this, m] { send_cycle(m); });
    }
  return Status::ok();
}

void CanPackSimulator::refresh(Time now) {
  if (refreshed_ == now) return;  // several messages due at one instant share one read of the model
  refreshed_ = now;
  last_ok_ = false;
  if (!sim_->start_read(now) || sim_->busy() || !last_ok_) return;
  sim_->publish(now, table_);
}

void CanPackSimulator::send_cycle(const DbcMessage* m) {
  const Time now = clock_->now();
  const Duration cycle = m->cycle > Duration{0} ? m->cycle : std::chrono::seconds(1);
  timers_[m] = clock_->call_at(now + cycle, [this, m] { send_cycle(m); });
  if (sim_->state() != DeviceState::active) return;
  // A simulated communication loss (fault.comm_loss): the BMS falls silent.
  if (stimulus("fault.comm_loss") > 0.5) return;
  refresh(now);
  keep_itself_on(now);
  // One frame per multiplexer value the map uses (every module), else one frame.
  std::vector<int> selectors{-1};
  if (const DbcSignal* mux = m->multiplexor()) {
    selectors.clear();
    for (const CanMapEntry& e : map_->entries)
      if (e.message == m && e.dbc_signal->mux == DbcSignal::Mux::multiplexed &&
          std::find(selectors.begin(), selectors.end(), e.dbc_signal->mux_value) == selectors.end())
        selectors.push_back(e.dbc_signal->mux_value);
    (void)mux;
    if (selectors.empty()) selectors.push_back(-1);  // only the message's plain signals are mapped
  }
  for (int sel : selectors) {
    CanFrame f = blank_frame(*m);
    if (sel >= 0) insert_raw(*m->multiplexor(), static_cast<std::uint64_t>(sel), f);
    // Unbound signals with an invalid value say so; the rest stay 0.
    for (const DbcSignal& s : m->signals)
      if (s.invalid_raw && (s.mux != DbcSignal::Mux::multiplexed || s.mux_value == sel)) (void)encode_invalid(s, f);
    bool send = true;
    for (std::size_t k = 0; k < map_->entries.size() && send; ++k) {
      const CanMapEntry& e = map_->entries[k];
      if (e.message != m) continue;
      if (e.dbc_signal->mux == DbcSignal::Mux::multiplexed && e.dbc_signal->mux_value != sel) continue;
      if (e.role == CanRole::heartbeat || e.role == CanRole::counter) {
        const double span = std::ldexp(1.0, std::min(e.dbc_signal->length, 16));
        (void)encode_signal(*e.dbc_signal, std::fmod(static_cast<double>(counters_[k]++), span), f);
        continue;
      }
      if (e.role == CanRole::identity && e.text) {
        for (int b = 0; b < e.dbc_signal->length / 8; ++b) {
          const std::size_t at = static_cast<std::size_t>(e.dbc_signal->start_bit / 8 + b);
          if (at < 8) f.data[at] = static_cast<std::uint8_t>(b < static_cast<int>(manufacturer_.size()) ? manufacturer_[static_cast<std::size_t>(b)] : ' ');
        }
        continue;
      }
      double v = std::nan("");
      if (e.role == CanRole::identity && e.dotted.find("Serial") != std::string::npos) {
        v = serial_number_;  // a numeric serial field carries the digits of the simulator's serial
      } else if (e.role == CanRole::identity) {
        v = 1;  // firmware 1.x
      } else if (signal_of_[k] != kNoSignal) {
        v = table_.value(signal_of_[k]) / e.factor;
      }
      if (std::isnan(v)) {
        if (e.dbc_signal->invalid_raw) (void)encode_invalid(*e.dbc_signal, f);
        continue;
      }
      if (auto s = encode_signal(*e.dbc_signal, v, f); !s) {
        ++encode_errors_;
        if (!e.dbc_signal->invalid_raw || !encode_invalid(*e.dbc_signal, f)) send = false;  // never a wrapped value
      }
    }
    if (send) (void)bus_->send(f);
  }
}

void CanPackSimulator::keep_itself_on(Time now) {
  // A BMS on a protocol with no command frame (the low-voltage set) closes its own contactor and
  // keeps it closed: nothing on the bus could ask. Its own watchdog sees it as its controller.
  if (!map_->command_messages.empty() || sim_->state() != DeviceState::active) return;
  const SignalId cmd = table_.find(sim_->name() + ".contactor_cmd.applied");
  if (cmd == kNoSignal) return;
  table_.set_value(cmd, 1.0);
  for (const char* lim : {".i_charge_allowed", ".i_discharge_allowed"}) {
    const SignalId id = table_.find(sim_->name() + lim);
    if (id != kNoSignal) table_.set_value(id, 1e9);  // its own limits are the only bound
  }
  (void)sim_->start_write(now);
}

void CanPackSimulator::on_frame(const CanFrame& f, Time at) {
  if (f.error || f.remote || !clock_ || sim_->state() != DeviceState::active) return;
  const DbcMessage* m = map_->dbc->find(f.id, f.extended);
  bool command = false;
  for (const DbcMessage* c : map_->command_messages) command = command || c == m;
  if (!command || f.len < m->shortest() || stimulus("fault.comm_loss") > 0.5) return;
  bool any = false;
  for (std::size_t k = 0; k < map_->entries.size(); ++k) {
    const CanMapEntry& e = map_->entries[k];
    if (e.message != m || signal_of_[k] == kNoSignal) continue;
    SignalValue v;
    if (!decode_signal(*m, *e.dbc_signal, f, &v) || !v.present) continue;
    table_.set_value(signal_of_[k], v.value * e.factor);
    any = true;
  }
  if (!any) return;
  ++commands_;
  // Applied at once, as the BMS takes a command frame (and its own watchdog sees the controller).
  (void)sim_->start_write(at);
}

void CanPackSimulator::deactivate() {
  for (auto& [m, id] : timers_)
    if (clock_) clock_->cancel(id);
  timers_.clear();
  if (sim_->state() == DeviceState::active) sim_->deactivate();
}

void CanPackSimulator::detach() {
  deactivate();
  if (open_) bus_->close();
  open_ = false;
  sim_->detach();
  clock_ = nullptr;
}

}  // namespace zhil::can
