#include "devices/can/can_gateway.hpp"

#include <algorithm>
#include <cmath>

#include "devices/can/can_codec.hpp"
#include "devices/can/can_link.hpp"
#include "harness/config/config_error.hpp"
#include "harness/device_registry.hpp"
#include "harness/link.hpp"

namespace zhil::can {

CanGateway::CanGateway(std::unique_ptr<CanPackDriver> driver, std::shared_ptr<const CanMap> map, std::shared_ptr<CanBus> pack_side,
                       std::shared_ptr<CanBus> inverter_side)
    : DeviceDecorator(std::move(driver)), map_(std::move(map)), pack_side_(std::move(pack_side)), inverter_side_(std::move(inverter_side)) {}

CanGateway::~CanGateway() {
  if (open_) {
    pack_side_->close();
    inverter_side_->close();
  }
}

std::vector<std::pair<std::string, std::uint64_t>> CanGateway::io_counts() const {
  auto out = DeviceDecorator::io_counts();
  out.push_back({"gateway frames forwarded", forwarded_});
  out.push_back({"gateway limits rewritten", rewritten_});
  out.push_back({"gateway frames dropped", dropped_});
  out.push_back({"gateway frames refused by a bus", refused_});
  return out;
}

Status CanGateway::on_configure(DeviceContext& c) {
  if (auto s = bus_needs_real_time(*inverter_side_, c.clock); !s) return s;
  if (auto s = DeviceDecorator::on_configure(c); !s) return s;
  limits_.clear();
  for (const CanMapEntry& e : map_->entries)
    if (!e.clamp_to.empty() && !limits_.count(e.clamp_to)) {
      SignalId id;
      if (auto s = add_limit(c.signals, e.clamp_to, e.unit, &id); !s) return s;
      limits_[e.clamp_to] = id;
    }
  if (limits_.empty()) return Status::error("CAN map " + map_->name + " has no clamp_to reading: a gateway would enforce nothing");
  return Status::ok();
}

void CanGateway::on_activate(Time now) {
  if (!open_) {
    pack_side_->set_receiver([this](const CanFrame& f, Time) { from_pack(f); });
    inverter_side_->set_receiver([this](const CanFrame& f, Time) { from_inverter(f); });
    if (auto s = pack_side_->open(*clock()); !s) {
      complete(s);
      return;
    }
    if (auto s = inverter_side_->open(*clock()); !s) {
      pack_side_->close();
      complete(s);
      return;
    }
    open_ = true;
  }
  // Nothing passes until the envelope has said what may (the first write).
  pass_ = false;
  safe_ = false;
  allowed_.clear();
  DeviceDecorator::on_activate(now);
}

void CanGateway::from_pack(const CanFrame& in) {
  CanFrame f = in;
  const DbcMessage* m = in.error || in.remote ? nullptr : map_->dbc->find(in.id, in.extended);
  bool clamped = false, all_zero = true;
  if (m) {
    for (const CanMapEntry& e : map_->entries) {
      if (e.message != m || e.clamp_to.empty()) continue;
      std::uint64_t raw = 0;
      if (!extract_raw(*e.dbc_signal, f, &raw)) {
        ++dropped_;  // too short to hold the clamped field: nothing safe to forward
        return;
      }
      SignalValue v;
      const bool readable = decode_signal(*m, *e.dbc_signal, f, &v) && v.present;
      auto a = allowed_.find(e.clamp_to);
      const double allowed = pass_ && a != allowed_.end() && std::isfinite(a->second) ? std::max(0.0, a->second) : 0.0;
      clamped = true;
      all_zero = all_zero && ((readable && v.value * e.factor <= 0) || allowed == 0);
      // A field that does not decode (out of its range, its invalid value, a short frame) is not
      // passed on as it is: it carries the bench's limit too.
      if (readable && v.value * e.factor <= allowed) continue;
      // Rewritten to the bench's limit; a value the field cannot carry is never forwarded.
      if (!encode_signal(*e.dbc_signal, allowed / e.factor, f)) {
        ++dropped_;
        return;
      }
      ++rewritten_;
    }
  }
  if (inverter_side_->send(f)) {
    ++forwarded_;
    if (safe_ && clamped && all_zero) ++zero_frames_since_safe_;
  } else {
    ++refused_;
  }
}

void CanGateway::from_inverter(const CanFrame& f) {
  const DbcMessage* m = f.error || f.remote ? nullptr : map_->dbc->find(f.id, f.extended);
  const bool allowed = m && std::find(map_->command_messages.begin(), map_->command_messages.end(), m) != map_->command_messages.end();
  if (!allowed) {
    ++dropped_;  // a command the map does not allow never reaches the pack
    return;
  }
  if (pack_side_->send(f)) ++forwarded_;
  else ++refused_;
}

void CanGateway::on_write(Time now, const SignalTable& t) {
  for (const auto& [name, id] : limits_) allowed_[name] = t.value(id);
  pass_ = true;
  safe_ = false;
  DeviceDecorator::on_write(now, t);
}

void CanGateway::on_safe_state() {
  pass_ = false;
  safe_ = true;
  zero_frames_since_safe_ = 0;
  for (auto& [name, v] : allowed_) v = 0;
  DeviceDecorator::on_safe_state();
}

void CanGateway::on_verify_safe_state() {
  auto report = [this] {
    const bool ok = zero_frames_since_safe_ > 0;
    complete_verify(SafeStateReport{ok, ok ? "the inverter's bus carries 0 A limits from the gateway (" +
                                                 std::to_string(zero_frames_since_safe_) + " frames)"
                                           : "no limit frame forwarded since the safe state was commanded"});
  };
  if (zero_frames_since_safe_ > 0) {
    report();
    return;
  }
  // The next clamped frame comes within the message's cycle.
  Duration wait{std::chrono::milliseconds(1500)};
  for (const CanMapEntry& e : map_->entries)
    if (!e.clamp_to.empty() && e.message->cycle > Duration{0}) wait = std::min(wait, e.message->cycle + std::chrono::milliseconds(200));
  const OpToken token = op_token();
  verify_timer_ = clock()->call_after(wait, [this, token, report] {
    verify_timer_ = kNoTimer;
    if (token == op_token()) report();
  });
}

void CanGateway::on_detach() {
  if (verify_timer_ != kNoTimer && clock()) clock()->cancel(verify_timer_);
  verify_timer_ = kNoTimer;
  DeviceDecorator::on_detach();
  if (open_) {
    pack_side_->close();
    inverter_side_->close();
  }
  open_ = false;
}

namespace {

std::unique_ptr<Device> build_gateway(DeviceBuildContext& c) {
  const DeviceConfig& d = c.device;
  const auto* link = dynamic_cast<const CanLink*>(d.link.get());
  if (!link) d.entry["link"].fail("device " + d.name + ": a can-gateway's link is the pack's CAN bus (can-virtual, socketcan, socketcand)");
  if (!d.params.defined() || !d.params.has("inverter_link"))
    d.entry.fail("device " + d.name + ": a can-gateway needs params.inverter_link, the inverter's CAN bus");
  d.params.expect_keys({"inverter_link"});
  const auto inv_spec = LinkRegistry::instance().parse(d.params["inverter_link"]);
  const auto* inv_link = dynamic_cast<const CanLink*>(inv_spec.get());
  if (!inv_link) d.params["inverter_link"].fail("inverter_link: a CAN link (can-virtual, socketcan, socketcand)");
  claim_bus(c, *link, d.name, d.entry["link"]);
  claim_bus(c, *inv_link, d.name + "-inverter", d.params["inverter_link"]);
  std::shared_ptr<const CanMap> map;
  try {
    map = std::make_shared<const CanMap>(load_can_map(resolve_can_map(*link, "battery-inverter-lv", d.entry.file()), 1));
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    d.entry["link"].fail(e.what());
  }
  if (link->type == "can-virtual" && inv_link->type == "can-virtual" &&
      virtual_bus_name(*link, d.name) == virtual_bus_name(*inv_link, d.name + "-inverter"))
    d.params["inverter_link"].fail("inverter_link: the inverter's bus must not be the pack's");
  auto driver = std::make_unique<CanPackDriver>(d.name, d.role, map, make_bus(*link, d.name, c.bench));
  return std::make_unique<CanGateway>(std::move(driver), map, make_bus(*link, d.name, c.bench),
                                      make_bus(*inv_link, d.name + "-inverter", c.bench));
}

const DeviceRegistration kGateway("can-gateway", {"pack",
                                                  "zhil between a pack's CAN bus and its inverter's: forwards frames, rewrites the "
                                                  "BMS's current limits to the envelope's, drops commands its map does not allow",
                                                  /*build_order=*/0, build_gateway});

}  // namespace
}  // namespace zhil::can
