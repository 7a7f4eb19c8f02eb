#include "devices/can/virtual_can_bus.hpp"

#include <algorithm>

#include "devices/can/can_traffic.hpp"
#include "harness/clock.hpp"

namespace zhil::can {

const char* to_string(BusState s) {
  switch (s) {
    case BusState::closed: return "closed";
    case BusState::active: return "error-active";
    case BusState::warning: return "error-warning";
    case BusState::passive: return "error-passive";
    case BusState::bus_off: return "bus-off";
    case BusState::reconnecting: return "reconnecting";
  }
  return "?";
}

std::shared_ptr<VirtualCanHub> VirtualCanHub::get(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<VirtualCanHub>> hubs;
  std::lock_guard lock(mutex);
  auto& slot = hubs[name];
  auto hub = slot.lock();
  if (!hub) {
    hub = std::make_shared<VirtualCanHub>(name);
    slot = hub;
  }
  return hub;
}

void VirtualCanHub::set_faults(BusFaults f) {
  // Freezing starts from what the bus carried last.
  for (std::uint32_t id : f.freeze)
    if (!faults_.freeze.count(id)) {
      auto it = last_.find(id);
      if (it != last_.end()) frozen_[id] = it->second;
    }
  for (auto it = frozen_.begin(); it != frozen_.end();) it = f.freeze.count(it->first) ? std::next(it) : frozen_.erase(it);
  faults_ = std::move(f);
}

void VirtualCanHub::attach(VirtualCanPort* p) {
  if (std::find(ports_.begin(), ports_.end(), p) == ports_.end()) ports_.push_back(p);
}

void VirtualCanHub::detach(VirtualCanPort* p) { ports_.erase(std::remove(ports_.begin(), ports_.end(), p), ports_.end()); }

Status VirtualCanHub::transmit(VirtualCanPort* from, const CanFrame& frame) {
  if (faults_.bus_off) {
    ++faulted_;
    return Status::error("bus " + name_ + " is bus-off");
  }
  // A babbling node holds the bus with a lower (higher-priority) id: every frame that would lose
  // arbitration to it never gets out.
  if (faults_.babbling && (frame.extended || frame.id > faults_.babble_id)) {
    ++faulted_;
    ++from->counters_.dropped;
    return Status::ok();  // the sender's controller keeps retrying; nothing reaches the others
  }
  CanFrame f = frame;
  Duration delay{0};
  if (!frame.error && !frame.extended) {
    if (faults_.drop.count(frame.id)) {
      ++faulted_;
      return Status::ok();
    }
    if (auto it = faults_.delay.find(frame.id); it != faults_.delay.end()) {
      delay = it->second;
      ++faulted_;
    }
    if (faults_.corrupt.count(frame.id)) {
      for (std::uint8_t k = 0; k < f.len; ++k) f.data[k] = static_cast<std::uint8_t>(~f.data[k]);
      ++faulted_;
    }
    if (faults_.freeze.count(frame.id)) {
      auto it = frozen_.find(frame.id);
      if (it == frozen_.end()) it = frozen_.emplace(frame.id, f).first;
      f = it->second;
      ++faulted_;
    }
    last_[frame.id] = frame;
  }
  ++from->counters_.tx;
  const Time at = from->clock_ ? from->clock_->now() : Time{0};
  if (logged_) traffic().record(name_, f, at);
  // Copied: a receiver may open or close ports while frames are delivered.
  const std::vector<VirtualCanPort*> ports = ports_;
  for (VirtualCanPort* p : ports)
    if (p != from) p->receive(f, at, delay);
  return Status::ok();
}

CanTraffic& VirtualCanHub::traffic() const { return traffic_ ? *traffic_ : CanTraffic::instance(); }

VirtualCanPort::VirtualCanPort(std::string bus_name) : hub_(VirtualCanHub::get(bus_name)) { logs_own_traffic_ = false; }
VirtualCanPort::VirtualCanPort(std::shared_ptr<VirtualCanHub> hub) : hub_(std::move(hub)) { logs_own_traffic_ = false; }

void CanBus::log_tx(const CanFrame& f, Time at) { (traffic_ ? *traffic_ : CanTraffic::instance()).record_tx(name(), f, at); }
void CanBus::log_rx(const CanFrame& f, Time at) { (traffic_ ? *traffic_ : CanTraffic::instance()).record_rx(name(), f, at, this); }
void CanBus::log_attach() { (traffic_ ? *traffic_ : CanTraffic::instance()).attach(name(), this); }
void CanBus::log_detach() { (traffic_ ? *traffic_ : CanTraffic::instance()).detach(name(), this); }

VirtualCanPort::~VirtualCanPort() { close(); }

Status VirtualCanPort::open(Clock& clock) {
  clock_ = &clock;
  *alive_ = false;
  alive_ = std::make_shared<bool>(true);
  hub_->attach(this);
  return Status::ok();
}

void VirtualCanPort::close() {
  *alive_ = false;
  hub_->detach(this);
  clock_ = nullptr;
}

Status VirtualCanPort::send(const CanFrame& frame) {
  if (!clock_) return Status::error("bus " + name() + " is not open");
  if (frame.len > 8) return Status::error("bus " + name() + ": a frame of " + std::to_string(frame.len) + " bytes");
  return hub_->transmit(this, frame);
}

BusState VirtualCanPort::state() const {
  if (!clock_) return BusState::closed;
  return hub_->faults().bus_off ? BusState::bus_off : BusState::active;
}

void VirtualCanPort::receive(const CanFrame& f, Time at, Duration delay) {
  if (!clock_) return;
  // A timer for the instant of delivery, not an I/O post: the simulated clock runs timers in the
  // order they were set, so deliveries keep the order frames were sent in, on every run.
  auto alive = alive_;
  clock_->call_at(at + delay, [this, alive, f, at, delay] {
    if (*alive) deliver(f, at + delay);
  });
}

}  // namespace zhil::can
