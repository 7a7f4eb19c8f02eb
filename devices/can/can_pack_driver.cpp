#include "devices/can/can_pack_driver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "devices/can/can_codec.hpp"
#include "devices/can/virtual_can_bus.hpp"

namespace zhil::can {

Status bus_needs_real_time(const CanBus& bus, const Clock& clock) {
  if (clock.is_real_time() || dynamic_cast<const VirtualCanPort*>(&bus)) return Status::ok();
  return Status::error("bus " + bus.name() + ": a SocketCAN or socketcand bus carries frames in real time only; run with "
                       "--realtime (simulated time holds no clock for frames on a kernel or TCP socket)");
}

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string message_name(const DbcMessage& m) {
  char b[32];
  std::snprintf(b, sizeof b, m.extended ? " (0x%08X)" : " (0x%03X)", m.id);
  return m.name + b;
}
}  // namespace

CanPackDriver::CanPackDriver(std::string name, std::string role, std::shared_ptr<const CanMap> map, std::shared_ptr<CanBus> bus)
    : Device(std::move(name), std::move(role)), map_(std::move(map)), bus_(std::move(bus)) {}

CanPackDriver::~CanPackDriver() {
  if (open_) bus_->close();
}

std::vector<std::pair<std::string, std::uint64_t>> CanPackDriver::io_counts() const {
  const BusCounters& c = bus_->counters();
  return {{"frames received", c.rx},      {"frames sent", c.tx},          {"bus errors", c.errors},
          {"frames dropped", c.dropped},  {"bus-off", c.bus_off},         {"bus restarts", c.restarts},
          {"message timeouts", timeouts_}, {"decode errors", decode_errors_}, {"encode range errors", encode_errors_},
          {"frozen", frozen_},            {"unknown ids", unknown_}};
}

Status CanPackDriver::on_configure(DeviceContext& c) {
  if (auto s = bus_needs_real_time(*bus_, c.clock); !s) return s;
  SignalTable& t = c.signals;
  reads_.clear();
  writes_.clear();
  limits_.clear();
  for (std::size_t k = 0; k < map_->entries.size(); ++k) {
    const CanMapEntry& e = map_->entries[k];
    Bound b{k, kNoSignal};
    switch (e.role) {
      case CanRole::reads:
        if (auto s = add_measurement(t, e.signal, e.unit, &b.id); !s) return s;
        reads_.push_back(b);
        break;
      case CanRole::writes:
        if (auto s = add_command(t, e.signal, e.unit, &b.id, Range{e.lo(), e.hi()}); !s) return s;
        writes_.push_back(b);
        break;
      case CanRole::limit:
        if (auto s = add_limit(t, e.signal, e.unit, &b.id); !s) return s;
        limits_.push_back(b);
        break;
      default: break;
    }
  }
  values_.assign(map_->entries.size(), kNaN);
  return Status::ok();
}

void CanPackDriver::on_frame(const CanFrame& f, Time at) {
  if (f.error || f.remote) return;
  const DbcMessage* m = map_->dbc->find(f.id, f.extended);
  if (!m) {
    ++unknown_;  // a stray id: counted, nothing else
    return;
  }
  if (std::find(map_->read_messages.begin(), map_->read_messages.end(), m) == map_->read_messages.end()) return;
  if (f.len < m->shortest()) {
    ++decode_errors_;
    pending_error_ = message_name(*m) + ": " + std::to_string(f.len) + " bytes, at least " + std::to_string(m->shortest()) + " expected";
    return;
  }
  for (const std::size_t k : map_->entries_of.at(m)) {
    const CanMapEntry& e = map_->entries[k];
    if (e.role == CanRole::identity && e.text) {
      // Whole bytes as ASCII (the manufacturer name), as many as the frame has; padding trimmed.
      std::string t;
      for (int b = 0; b < e.dbc_signal->length / 8; ++b) {
        const int at = e.dbc_signal->start_bit / 8 + b;
        if (at >= f.len) break;
        const char c = static_cast<char>(f.data[static_cast<std::size_t>(at)]);
        t += (c >= 0x20 && c < 0x7F) ? c : ' ';
      }
      while (!t.empty() && t.back() == ' ') t.pop_back();
      texts_[k] = t;
      continue;
    }
    SignalValue v;
    if (auto s = decode_signal(*m, *e.dbc_signal, f, &v); !s) {
      ++decode_errors_;
      pending_error_ = bus_->name() + ": " + message_name(*m) + ": " + s.message();
      continue;
    }
    // A multiplexed signal of another module keeps its value; a short frame or invalid value clears.
    if (e.dbc_signal->mux == DbcSignal::Mux::multiplexed && !v.present) {
      const DbcSignal* mux = m->multiplexor();
      std::uint64_t sel = 0;
      if (mux && extract_raw(*mux, f, &sel) && static_cast<std::int64_t>(sel) != e.dbc_signal->mux_value) continue;
    }
    values_[k] = v.present ? v.value * e.factor : kNaN;
    if (e.role == CanRole::heartbeat && v.present) {
      auto& hb = heartbeats_[k];
      if (hb.second == Time{0} || hb.first != v.value) hb = {v.value, at};
    }
  }
  last_rx_[m] = at;
  if (activation_timer_ != kNoTimer && missing_messages().empty()) {
    clock()->cancel(activation_timer_);
    activation_timer_ = kNoTimer;
    complete(activation_token_, Status::ok());
  }
}

std::string CanPackDriver::missing_messages() const {
  std::string missing;
  for (const DbcMessage* m : map_->required_messages)
    if (!last_rx_.count(m)) missing += (missing.empty() ? "" : ", ") + message_name(*m);
  return missing;
}

std::string CanPackDriver::identity() const {
  std::string id;
  for (std::size_t k = 0; k < map_->entries.size(); ++k) {
    const CanMapEntry& e = map_->entries[k];
    if (e.role != CanRole::identity) continue;
    std::string part;
    if (e.text) {
      auto it = texts_.find(k);
      if (it != texts_.end()) part = it->second;
    } else if (!std::isnan(values_[k])) {
      part = std::to_string(static_cast<long long>(values_[k]));
    }
    if (!part.empty()) id += (id.empty() ? "" : " ") + part;
  }
  return id;
}

void CanPackDriver::on_activate(Time now) {
  if (!open_) {
    bus_->set_receiver([this](const CanFrame& f, Time at) { on_frame(f, at); });
    if (auto s = bus_->open(*clock()); !s) {
      complete(s);
      return;
    }
    open_ = true;
  }
  last_rx_.clear();
  heartbeats_.clear();
  pending_error_.clear();
  // The BMS's own command timeout arms with the first command frame.
  watchdog_ = Duration{0};
  for (const DbcMessage* m : map_->command_messages) watchdog_ = std::max(watchdog_, CanMap::timeout_of(*m));
  // Active once every required message has come (checked as frames arrive); an error if one has
  // not within its timeout.
  Duration wait{0};
  for (const DbcMessage* m : map_->required_messages) wait = std::max(wait, CanMap::timeout_of(*m));
  activation_token_ = op_token();
  (void)now;
  const OpToken token = activation_token_;
  activation_timer_ = clock()->call_after(wait, [this, token] {
    activation_timer_ = kNoTimer;
    const std::string missing = missing_messages();
    if (missing.empty()) complete(token, Status::ok());
    else complete(token, Status::error("bus " + bus_->name() + ": the pack is silent: no " + missing + " within its timeout"));
  });
}

Status CanPackDriver::stale_messages(Time now) const {
  for (const DbcMessage* m : map_->required_messages) {
    auto it = last_rx_.find(m);
    const Duration limit = CanMap::timeout_of(*m);
    if (it == last_rx_.end() || now - it->second > limit) {
      char b[96];
      std::snprintf(b, sizeof b, "%.3f s (timeout %g s)", it == last_rx_.end() ? to_seconds(limit) : to_seconds(now - it->second),
                    to_seconds(limit));
      return Status::error("bus " + bus_->name() + ": " + message_name(*m) + " timed out: no frame for " + b);
    }
  }
  return Status::ok();
}

void CanPackDriver::on_read(Time now) {
  if (auto s = stale_messages(now); !s) {
    ++timeouts_;
    complete(s);
    return;
  }
  for (const auto& [k, hb] : heartbeats_) {
    const CanMapEntry& e = map_->entries[k];
    if (now - hb.second > e.heartbeat) {
      ++frozen_;
      char b[48];
      std::snprintf(b, sizeof b, "%.3f s", to_seconds(now - hb.second));
      complete(Status::error("bus " + bus_->name() + ": frozen data: " + e.dotted + " unchanged for " + b));
      return;
    }
  }
  if (!pending_error_.empty()) {
    const std::string e = pending_error_;
    pending_error_.clear();
    complete(Status::error(e));
    return;
  }
  complete(Status::ok());
}

void CanPackDriver::on_publish(Time, SignalTable& t) {
  for (const Bound& b : reads_) t.set_value(b.id, values_[b.entry]);
}

Status CanPackDriver::send_commands(const std::vector<double>& values, bool safe) {
  ++counter_;
  for (const DbcMessage* m : map_->command_messages) {
    CanFrame f = blank_frame(*m);
    for (std::size_t k = 0; k < map_->entries.size(); ++k) {
      const CanMapEntry& e = map_->entries[k];
      if (e.message != m) continue;
      double v = values[k];
      if (e.role == CanRole::counter)
        v = static_cast<double>(counter_ % static_cast<std::uint64_t>(std::ldexp(1.0, std::min(e.dbc_signal->length, 16))));
      else if (e.role == CanRole::init) v = safe && e.has_safe ? e.safe : e.init_value;
      else if (safe && e.has_safe) v = e.safe;
      if (std::isnan(v)) v = e.has_safe ? e.safe : 0.0;  // nothing commanded yet: its safe value
      if (auto s = encode_signal(*e.dbc_signal, v / e.factor, f); !s) {
        ++encode_errors_;
        return Status::error("bus " + bus_->name() + ": " + message_name(*m) + ": " + s.message() + " (refused, nothing sent)");
      }
    }
    if (auto s = bus_->send(f); !s) return s;
  }
  return Status::ok();
}

void CanPackDriver::on_write(Time, const SignalTable& t) {
  std::vector<double> values(map_->entries.size(), kNaN);
  for (const Bound& b : writes_) values[b.entry] = t.value(b.id);
  for (const Bound& b : limits_) values[b.entry] = t.value(b.id);
  complete(send_commands(values, false));
}

void CanPackDriver::on_safe_state() {
  if (!open_) {
    complete(Status::error("bus " + bus_->name() + " never opened (not activated), nothing to command"));
    return;
  }
  complete(send_commands(std::vector<double>(map_->entries.size(), kNaN), true));
}

void CanPackDriver::on_verify_safe_state() {
  if (!open_) {
    complete_verify(SafeStateReport{false, "never reached (not activated)"});
    return;
  }
  // Read back from frames that came after now: wait one timeout of the slowest message involved.
  verify_from_ = clock()->now();
  Duration wait{0};
  for (const CanMapEntry& e : map_->entries)
    if (e.has_safe_when) wait = std::max(wait, e.message->cycle > Duration{0} ? 2 * e.message->cycle : CanMap::timeout_of(*e.message));
  const OpToken token = op_token();
  verify_timer_ = clock()->call_after(wait, [this, token] {
    verify_timer_ = kNoTimer;
    bool ok = true;
    std::string detail;
    for (std::size_t k = 0; k < map_->entries.size(); ++k) {
      const CanMapEntry& e = map_->entries[k];
      if (!e.has_safe_when) continue;
      auto it = last_rx_.find(e.message);
      const bool fresh = it != last_rx_.end() && it->second >= verify_from_;
      const double v = values_[k];
      const bool in = fresh && v >= e.safe_lo && v <= e.safe_hi;
      ok = ok && in;
      char b[160];
      if (!fresh) std::snprintf(b, sizeof b, "%s%s: no fresh %s", detail.empty() ? "" : ", ", e.signal.c_str(), e.message->name.c_str());
      else std::snprintf(b, sizeof b, "%s%s=%g %s%s", detail.empty() ? "" : ", ", e.signal.c_str(), v, e.unit.c_str(), in ? "" : " (NOT SAFE)");
      detail += b;
    }
    complete_verify(token, SafeStateReport{ok, detail.empty() ? "nothing to read back in the map" : detail});
  });
}

void CanPackDriver::on_abandon() {
  if (activation_timer_ != kNoTimer) clock()->cancel(activation_timer_);
  if (verify_timer_ != kNoTimer) clock()->cancel(verify_timer_);
  activation_timer_ = verify_timer_ = kNoTimer;
}

void CanPackDriver::on_deactivate() { on_abandon(); }

void CanPackDriver::on_detach() {
  on_abandon();
  if (open_) bus_->close();
  open_ = false;
}

}  // namespace zhil::can
