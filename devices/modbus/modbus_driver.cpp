#include "devices/modbus/modbus_driver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace zhil::modbus {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxWriteRegisters = 123;  // FC16's limit

}  // namespace

ModbusDriver::ModbusDriver(std::string name, std::string role, DriverSpec spec)
    : Device(std::move(name), std::move(role)), spec_(std::move(spec)) {
  resolved_ = *spec_.map;
}

ModbusDriver::~ModbusDriver() {
  if (spec_.transport) spec_.transport->cancel_all();
}

std::vector<std::pair<std::string, std::uint64_t>> ModbusDriver::io_counts() const {
  const Transport& t = *spec_.transport;
  std::vector<std::pair<std::string, std::uint64_t>> out{{"requests", t.requests()}};
  for (FailureKind k : {FailureKind::timeout, FailureKind::exception, FailureKind::connection_lost, FailureKind::framing,
                        FailureKind::bad_reply})
    out.push_back({to_string(k), t.failures(k)});
  out.push_back({"refused", refused_});
  out.push_back({"frozen", frozen_});
  return out;
}

Status ModbusDriver::on_configure(DeviceContext& c) {
  SignalTable& t = c.signals;
  const RegisterMap& map = *spec_.map;
  reads_.clear();
  writes_.clear();
  limits_.clear();
  for (std::size_t k = 0; k < map.entries.size(); ++k) {
    const MapEntry& e = map.entries[k];
    Binding b;
    b.entry = k;
    switch (e.role) {
      case EntryRole::reads: {
        if (auto s = add_measurement(t, e.signal, e.unit.empty() ? "1" : e.unit, &b.id); !s) return s;
        if (!e.per_unit.empty() && spec_.units.size() > 1)
          for (int u : spec_.units) {
            SignalId id;
            if (auto s = add_measurement(t, per_unit_signal(e.per_unit, u), e.unit.empty() ? "1" : e.unit, &id); !s) return s;
            b.per_unit.push_back(id);
          }
        reads_.push_back(std::move(b));
        break;
      }
      case EntryRole::writes: {
        Range r{e.lo, e.hi};
        if (!e.values.empty()) {
          r.lo = r.hi = e.values.front().first;
          for (const auto& [sv, rv] : e.values) r.lo = std::min(r.lo, sv), r.hi = std::max(r.hi, sv);
        }
        if (auto s = add_command(t, e.signal, e.unit.empty() ? "1" : e.unit, &b.id, r); !s) return s;
        writes_.push_back(std::move(b));
        break;
      }
      case EntryRole::limit:
        if (auto s = add_limit(t, e.signal, e.unit.empty() ? "1" : e.unit, &b.id); !s) return s;
        limits_.push_back(std::move(b));
        break;
      case EntryRole::init:
      case EntryRole::watchdog:
      case EntryRole::info: break;
    }
  }
  // What the link has been through, as readings of the device (checks on detection read them).
  if (auto s = add_measurements(t, {{"modbus.failures", "1", &link_failures_}, {"modbus.reconnects", "1", &link_reconnects_}}); !s)
    return s;
  values_.assign(reads_.size(), kNaN);
  unit_values_.assign(reads_.size(), std::vector<double>(spec_.units.size(), kNaN));
  return Status::ok();
}

void ModbusDriver::set_windows() {
  int lo = 65536, hi = 0;
  if (resolved_.sunspec) {
    lo = layout_.base;
    hi = layout_.end + 2;
  } else {
    for (const MapEntry& e : resolved_.entries) {
      lo = std::min(lo, e.address);
      hi = std::max(hi, e.address + e.format.words);
    }
    for (const ReadableBlock& b : resolved_.blocks) {
      lo = std::min(lo, b.first);
      hi = std::max(hi, b.last + 1);
    }
  }
  windows_.assign(spec_.units.size(), RegisterWindow{lo, std::vector<std::uint16_t>(static_cast<std::size_t>(std::max(0, hi - lo)), 0)});
}

std::string ModbusDriver::request_error(const Request& r, const Result& res) const {
  std::string s = r.describe() + " at " + spec_.transport->endpoint().describe() + ": " +
                  to_string(res.failure.kind);
  if (!res.failure.detail.empty()) s += " (" + res.failure.detail + ")";
  if (res.attempts > 1) s += " after " + std::to_string(res.attempts) + " attempts";
  return s;
}

void ModbusDriver::run_requests(std::vector<Request> requests, Then then) {
  next_request(std::make_shared<std::vector<Request>>(std::move(requests)), 0, op_token(), std::move(then));
}

void ModbusDriver::next_request(std::shared_ptr<std::vector<Request>> requests, std::size_t k, OpToken token, Then then) {
  if (token != op_token()) return;  // the operation was abandoned
  if (k == requests->size()) {
    then(Status::ok());
    return;
  }
  const Request& r = (*requests)[k];
  spec_.transport->submit(*clock(), r, [this, requests, k, token, then](const Result& res) {
    if (token != op_token()) return;
    const Request& req = (*requests)[k];
    if (!res.ok()) {
      then(Status::error(request_error(req, res)));
      return;
    }
    if (req.function == Function::read_holding || req.function == Function::read_input) {
      std::size_t u = 0;
      while (u < spec_.units.size() && spec_.units[u] != req.unit) ++u;
      RegisterWindow& w = windows_[u < windows_.size() ? u : 0];
      if (w.holds(req.address, req.count)) std::copy(res.registers.begin(), res.registers.end(), w.at(req.address, req.count).begin());
    }
    next_request(requests, k + 1, token, then);
  });
}

ReadSet ModbusDriver::due_read_set(Time now) {
  if (now - full_read_at_ < spec_.rewrite) return ReadSet::cycle;
  full_read_at_ = now;
  return ReadSet::full;
}

std::vector<Request> ModbusDriver::read_requests(ReadSet set) const {
  std::vector<Request> out;
  for (int u : spec_.units)
    for (const ReadRun& r : set == ReadSet::full ? full_runs_ : cycle_runs_) out.push_back({Function::read_holding, u, r.address, r.count, {}});
  return out;
}

double ModbusDriver::sf_power(const MapEntry& e, std::size_t unit) const { return sf_power_of(e, windows_[unit]); }

double ModbusDriver::percent_base(const MapEntry& e, std::size_t unit) const {
  return percent_base_of(resolved_, e, windows_[unit]);
}

Status ModbusDriver::decode_all(std::vector<double>* values, std::vector<std::vector<double>>* per_unit) const {
  for (std::size_t k = 0; k < reads_.size(); ++k) {
    const MapEntry& e = resolved_.entries[reads_[k].entry];
    std::vector<double>& pu = (*per_unit)[k];
    double acc = kNaN;
    std::size_t n = 0;
    for (std::size_t u = 0; u < spec_.units.size(); ++u) {
      pu[u] = kNaN;
      if (!e.resolved()) continue;
      Decoded d;
      const double sf = sf_power(e, u);
      if (!std::isfinite(sf) && e.required && e.values.empty())
        return Status::error("unit " + std::to_string(spec_.units[u]) + " register " + std::to_string(e.scale_address) +
                             ": scale factor " + e.scale_point + " of " + e.name + " is not implemented or outside -10..10");
      if (auto s = decode_entry(e, windows_[u], sf, percent_base(e, u), &d); !s) {
        return Status::error("unit " + std::to_string(spec_.units[u]) + " register " + std::to_string(e.address) +
                             " " + s.message());
      }
      if (!d.present) continue;
      pu[u] = d.value;
      if (n == 0) acc = d.value;
      else switch (e.gather) {
          case Gather::first: break;
          case Gather::sum:
          case Gather::mean: acc += d.value; break;
          case Gather::min: acc = std::min(acc, d.value); break;
          case Gather::max: acc = std::max(acc, d.value); break;
          case Gather::any: acc = (acc != 0 || d.value != 0) ? 1.0 : 0.0; break;
        }
      ++n;
    }
    if (e.gather == Gather::mean && n > 0) acc /= static_cast<double>(n);
    (*values)[k] = acc;
  }
  return Status::ok();
}

void ModbusDriver::on_activate(Time now) {
  const OpToken token = op_token();
  if (!resolved_.sunspec) {
    resolved_ = *spec_.map;
    set_windows();
    cycle_runs_ = plan_reads(resolved_, resolved_.blocks, ReadSet::cycle);
    full_runs_ = plan_reads(resolved_, resolved_.blocks, ReadSet::full);
    finish_activation(now, token);
    return;
  }
  if (discovered_) {
    finish_activation(now, token);
    return;
  }
  // Discovery, one header read at a time (a handful of requests, once per device).
  discovery_ = std::make_unique<SunSpecDiscovery>();
  discover_next(token, now);
}

void ModbusDriver::discover_next(OpToken token, Time now) {
  if (token != op_token()) return;
  const auto read = discovery_->next();
  if (!read) {
    if (!discovery_->error().empty()) {
      complete(token, Status::error(spec_.transport->endpoint().describe() + ": " + discovery_->error()));
      return;
    }
    layout_ = discovery_->result();
    if (auto s = resolve_map(*spec_.map, layout_, &resolved_); !s) {
      complete(token, s);
      return;
    }
    discovered_ = true;
    set_windows();
    cycle_runs_ = plan_reads(resolved_, {ReadableBlock{layout_.base, layout_.end + 1}}, ReadSet::cycle);
    full_runs_ = plan_reads(resolved_, {ReadableBlock{layout_.base, layout_.end + 1}}, ReadSet::full);
    finish_activation(now, token);
    return;
  }
  Request r{Function::read_holding, spec_.units.front(), read->address, read->count, {}};
  spec_.transport->submit(*clock(), r, [this, token, r, now](const Result& res) {
    if (token != op_token()) return;
    // An exception (no such register) at a base address means "not here"; a dead link is not.
    if (!res.ok() && res.failure.kind != FailureKind::exception) {
      complete(token, Status::error(request_error(r, res) + " during SunSpec discovery"));
      return;
    }
    discovery_->feed(!res.ok(), res.registers, res.ok() ? "" : res.failure.detail);
    discover_next(token, now);
  });
}

void ModbusDriver::finish_activation(Time now, OpToken token) {
  full_read_at_ = now;
  run_requests(read_requests(ReadSet::full), [this, token](const Status& s) {
    if (!s) {
      complete(token, s);
      return;
    }
    if (auto d = decode_all(&values_, &unit_values_); !d) {
      complete(token, d);
      return;
    }
    // A command or limit whose point, or whose scale factor, the device does not implement (its
    // not-implemented pattern): refused if the map requires it, else left out (never written).
    dropped_.clear();
    for (MapEntry& e : resolved_.entries) {
      if (!e.resolved() || !e.written()) continue;
      const bool sf_missing = !std::isfinite(sf_power(e, 0));
      const bool point_missing = e.model != 0 && e.values.empty() && !decode_raw(e.format, windows_[0].at(e.address, e.format.words));
      const bool base_missing = !e.percent_of.empty() && !std::isfinite(percent_base(e, 0));
      if (!sf_missing && !point_missing && !base_missing) continue;
      const std::string why = sf_missing ? "its scale factor " + e.scale_point : base_missing ? e.percent_of : "the point";
      if (e.required) {
        complete(token, Status::error("the device does not implement " + why + " of " + e.name +
                                      (e.signal.empty() ? std::string() : " (signal " + e.signal + ")")));
        return;
      }
      dropped_.push_back(e.name);
      e.address = -1;  // not written
    }
    // A required reading the device does not implement (its not-implemented pattern) is refused.
    for (std::size_t k = 0; k < reads_.size(); ++k) {
      const MapEntry& e = resolved_.entries[reads_[k].entry];
      if (e.required && std::isnan(values_[k])) {
        complete(token, Status::error("the device does not implement " + e.name + " (register " +
                                      std::to_string(e.address) + ", signal " + e.signal + ")"));
        return;
      }
    }
    // Identity: the strings and numbers the map marks as such, from every unit.
    identity_.clear();
    for (const MapEntry& e : resolved_.entries) {
      if (!e.identity || !e.resolved()) continue;
      std::string part;
      for (std::size_t u = 0; u < windows_.size(); ++u) {
        std::string v;
        if (e.format.type == RegisterType::string) {
          v = decode_string(windows_[u].at(e.address, e.format.words));
        } else {
          Decoded d;
          if (decode_entry(e, windows_[u], sf_power(e, u), kNaN, &d) && d.present) v = std::to_string(static_cast<long long>(d.value));
        }
        if (!v.empty()) part += (part.empty() ? "" : ",") + v;
      }
      if (!part.empty()) identity_ += (identity_.empty() ? "" : " ") + part;
    }
    // The map's one-off writes (enable the setpoint, ...).
    std::vector<std::pair<std::size_t, double>> inits;
    for (std::size_t k = 0; k < resolved_.entries.size(); ++k)
      if (resolved_.entries[k].role == EntryRole::init && resolved_.entries[k].resolved())
        inits.push_back({k, resolved_.entries[k].init_value});
    arm_watchdog(&inits);
    std::vector<Request> writes;
    if (auto e = encode_writes(inits, &writes); !e) {
      complete(token, e);
      return;
    }
    heartbeats_.clear();
    sent_ = windows_;
    sent_at_.assign(windows_.size(), std::vector<Time>(windows_.empty() ? 0 : windows_[0].regs.size(), Time{-1}));
    run_requests(std::move(writes), [this, token](const Status& w) { complete(token, w); });
  });
}

void ModbusDriver::arm_watchdog(std::vector<std::pair<std::size_t, double>>* writes) {
  watchdog_armed_ = Duration{0};
  refresh_ = spec_.rewrite;
  const Duration want = requested_watchdog();
  bool timer = false, complete_set = true;
  for (const MapEntry& e : resolved_.entries) {
    if (e.role != EntryRole::watchdog) continue;
    timer = timer || (e.watchdog_timer && e.resolved());
    complete_set = complete_set && e.resolved();  // a revert value or enable the device lacks: not armed
  }
  if (want <= Duration{0} || !timer || !complete_set) return;
  // Whole seconds, rounded up: the device must not give up before the harness would.
  const double seconds = std::ceil(to_seconds(want));
  for (std::size_t k = 0; k < resolved_.entries.size(); ++k) {
    const MapEntry& e = resolved_.entries[k];
    if (e.role == EntryRole::watchdog) writes->push_back({k, e.watchdog_timer ? seconds : e.init_value});
  }
  watchdog_armed_ = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
  refresh_ = std::min(spec_.rewrite, watchdog_armed_ / 3);
}

Status ModbusDriver::check_heartbeats(Time now) {
  if (heartbeats_.empty()) heartbeats_.assign(resolved_.entries.size(), {});
  for (std::size_t k = 0; k < resolved_.entries.size(); ++k) {
    const MapEntry& e = resolved_.entries[k];
    if (e.heartbeat <= Duration{0} || !e.resolved()) continue;
    auto& hb = heartbeats_[k];
    hb.resize(windows_.size(), {std::numeric_limits<double>::quiet_NaN(), now});
    for (std::size_t u = 0; u < windows_.size(); ++u) {
      Decoded d;
      if (!decode_entry(e, windows_[u], 1.0, kNaN, &d) || !d.present) continue;
      if (d.value != hb[u].first) {
        hb[u] = {d.value, now};
      } else if (now - hb[u].second > e.heartbeat) {
        ++frozen_;
        return Status::error("unit " + std::to_string(spec_.units[u]) + ": frozen registers: heartbeat " + e.name +
                             " (register " + std::to_string(e.address) + ") unchanged for " +
                             std::to_string(to_seconds(now - hb[u].second)) + " s");
      }
    }
  }
  return Status::ok();
}

void ModbusDriver::on_read(Time now) {
  const OpToken token = op_token();
  run_requests(read_requests(due_read_set(now)), [this, token, now](const Status& s) {
    if (!s) {
      complete(token, s);
      return;
    }
    if (auto h = check_heartbeats(now); !h) {
      complete(token, h);
      return;
    }
    // Decoded in full before anything is published: a bad value fails the whole read.
    complete(token, decode_all(&values_, &unit_values_));
  });
}

void ModbusDriver::on_publish(Time, SignalTable& t) {
  t.set_value(link_failures_, static_cast<double>(spec_.transport->failures() + refused_ + frozen_));
  t.set_value(link_reconnects_, static_cast<double>(spec_.transport->reconnects()));
  for (std::size_t k = 0; k < reads_.size(); ++k) {
    t.set_value(reads_[k].id, values_[k]);
    for (std::size_t u = 0; u < reads_[k].per_unit.size(); ++u) t.set_value(reads_[k].per_unit[u], unit_values_[k][u]);
  }
}

Status ModbusDriver::encode_writes(const std::vector<std::pair<std::size_t, double>>& values, std::vector<Request>* out,
                                  const Time* now) {
  for (std::size_t u = 0; u < spec_.units.size(); ++u) {
    RegisterWindow scratch = windows_[u];
    std::vector<char> dirty(scratch.regs.size(), 0);
    for (const auto& [k, v] : values) {
      const MapEntry& e = resolved_.entries[k];
      if (!e.resolved()) continue;
      if (auto s = encode_entry(e, v, sf_power(e, u), percent_base(e, u), scratch); !s) {
        ++refused_;
        return Status::error("unit " + std::to_string(spec_.units[u]) + " register " + std::to_string(e.address) + ": " +
                             s.message());
      }
      const std::size_t at = static_cast<std::size_t>(e.address - scratch.base);
      if (now && u < sent_.size()) {
        // Unchanged on the wire, and written recently enough: nothing to send.
        bool same = true;
        for (int r = 0; r < e.format.words && same; ++r) {
          const Time t = sent_at_[u][at + static_cast<std::size_t>(r)];
          same = t >= Time{0} && sent_[u].regs[at + static_cast<std::size_t>(r)] == scratch.regs[at + static_cast<std::size_t>(r)] &&
                 (e.on_change || *now - t < refresh_);
        }
        if (same) continue;
      }
      for (int r = 0; r < e.format.words; ++r) dirty[at + static_cast<std::size_t>(r)] = 1;
    }
    for (std::size_t i = 0; i < dirty.size();) {
      if (!dirty[i]) {
        ++i;
        continue;
      }
      std::size_t j = i;
      const std::size_t most = resolved_.single_writes ? 1 : kMaxWriteRegisters;
      while (j < dirty.size() && dirty[j] && j - i < most) ++j;
      Request r;
      r.unit = spec_.units[u];
      r.address = scratch.base + static_cast<int>(i);
      r.count = static_cast<int>(j - i);
      r.values.assign(scratch.regs.begin() + static_cast<long>(i), scratch.regs.begin() + static_cast<long>(j));
      r.function = r.count == 1 ? Function::write_single : Function::write_multiple;
      out->push_back(std::move(r));
      i = j;
    }
  }
  return Status::ok();
}

void ModbusDriver::note_written(const std::vector<Request>& requests, Time now) {
  for (const Request& r : requests) {
    std::size_t u = 0;
    while (u < spec_.units.size() && spec_.units[u] != r.unit) ++u;
    if (u >= sent_.size()) continue;
    for (int k = 0; k < r.count; ++k) {
      const std::size_t at = static_cast<std::size_t>(r.address - sent_[u].base + k);
      sent_[u].regs[at] = r.values[static_cast<std::size_t>(k)];
      sent_at_[u][at] = now;
    }
  }
}

void ModbusDriver::forget_written() {
  for (auto& times : sent_at_) std::fill(times.begin(), times.end(), Time{-1});
}

void ModbusDriver::on_write(Time now, const SignalTable& t) {
  std::vector<std::pair<std::size_t, double>> values;
  for (const Binding& b : writes_) values.push_back({b.entry, t.value(b.id)});
  for (const Binding& b : limits_) values.push_back({b.entry, t.value(b.id)});
  auto requests = std::make_shared<std::vector<Request>>();
  if (auto s = encode_writes(values, requests.get(), &now); !s) {
    complete(s);
    return;
  }
  const OpToken token = op_token();
  run_requests(*requests, [this, token, requests, now](const Status& s) {
    // A failed write leaves the device's registers unknown: everything goes out again next time.
    if (s) note_written(*requests, now);
    else forget_written();
    complete(token, s);
  });
}

void ModbusDriver::on_safe_state() {
  std::vector<std::pair<std::size_t, double>> values;
  for (std::size_t k = 0; k < resolved_.entries.size(); ++k)
    if (resolved_.entries[k].has_safe && resolved_.entries[k].resolved()) values.push_back({k, resolved_.entries[k].safe});
  forget_written();  // whatever is written next goes out
  if (windows_.empty()) {
    complete(Status::error("never reached (not activated), nothing to command"));
    return;
  }
  std::vector<Request> requests;
  if (auto s = encode_writes(values, &requests); !s) {
    complete(s);
    return;
  }
  const OpToken token = op_token();
  run_requests(std::move(requests), [this, token](const Status& s) { complete(token, s); });
}

void ModbusDriver::on_verify_safe_state() {
  const OpToken token = op_token();
  if (windows_.empty()) {
    complete_verify(SafeStateReport{false, "never reached (not activated)"});
    return;
  }
  run_requests(read_requests(ReadSet::full), [this, token](const Status& s) {
    if (!s) {
      complete_verify(token, SafeStateReport{false, "read back failed: " + s.message()});
      return;
    }
    std::vector<double> v(reads_.size());
    std::vector<std::vector<double>> pu(reads_.size(), std::vector<double>(spec_.units.size()));
    if (auto d = decode_all(&v, &pu); !d) {
      complete_verify(token, SafeStateReport{false, "read back failed: " + d.message()});
      return;
    }
    bool ok = true;
    std::string detail;
    for (std::size_t k = 0; k < reads_.size(); ++k) {
      const MapEntry& e = resolved_.entries[reads_[k].entry];
      if (!e.has_safe_when) continue;
      // An optional reading the device does not have (not implemented) cannot be read back: it is
      // left out of the verification, and said so; a required one is not verified.
      if (std::isnan(v[k]) && !e.required) {
        detail += (detail.empty() ? "" : ", ") + e.signal + " not implemented by the device";
        continue;
      }
      const bool in = v[k] >= e.safe_lo && v[k] <= e.safe_hi;  // NaN is not inside
      ok = ok && in;
      char b[160];
      std::snprintf(b, sizeof b, "%s%s=%g %s%s", detail.empty() ? "" : ", ", e.signal.c_str(), v[k], e.unit.c_str(),
                    in ? "" : " (NOT SAFE)");
      detail += b;
    }
    complete_verify(token, SafeStateReport{ok, detail.empty() ? "nothing to read back in the map" : detail});
  });
}

void ModbusDriver::on_abandon() { spec_.transport->cancel_all(); }
void ModbusDriver::on_deactivate() { spec_.transport->cancel_all(); }
void ModbusDriver::on_detach() { spec_.transport->detach(); }

}  // namespace zhil::modbus
