#pragma once
// A CAN bus inside this process: every port opened on a bus of a name gets the frames the other
// ports send, in the order sent, delivered on the loop (posted, never re-entering the sender), at
// the sender's time. In simulated time that makes a CAN scenario as repeatable as any other: the
// simulated pack's cyclic frames and the driver's timeouts all run on the run's timers.
//
// A bus can be given faults (fault injection on the scenario timeline): per message id drop,
// delay, corrupt or freeze; bus-off (nothing passes until recovered); a babbling node that floods
// the bus with a high-priority id and starves the others.
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "devices/can/can_bus.hpp"

namespace zhil::can {

class VirtualCanPort;

// Faults of one virtual bus, set from the scenario (through a device's stimuli) or a test.
struct BusFaults {
  std::set<std::uint32_t> drop;                   // ids never delivered
  std::map<std::uint32_t, Duration> delay;        // ids delivered that much later
  std::set<std::uint32_t> corrupt;                // ids delivered with their data bytes inverted
  std::set<std::uint32_t> freeze;                 // ids delivered with the data of the last frame before the freeze
  bool bus_off = false;                           // nothing is sent or delivered
  bool babbling = false;                          // a node floods id `babble_id`: the others lose arbitration
  std::uint32_t babble_id = 0x000;
  bool any() const { return !drop.empty() || !delay.empty() || !corrupt.empty() || !freeze.empty() || bus_off || babbling; }
};

class VirtualCanHub {
 public:
  // The bus of this name in this process (created on first use, gone with its last port).
  // A standalone tool's (zhil sim pack, zhil can serve); a station's buses are its bench's own
  // (make_bus), so that two runs in one process never share a bus.
  static std::shared_ptr<VirtualCanHub> get(const std::string& name);
  const std::string& name() const { return name_; }
  void set_faults(BusFaults f);
  const BusFaults& faults() const { return faults_; }
  // Frames the faults changed or dropped, and frames lost to a babbling node.
  std::uint64_t faulted() const { return faulted_; }
  void set_logged(bool on) { logged_ = on; }
  bool logged() const { return logged_; }

  explicit VirtualCanHub(std::string name, std::shared_ptr<CanTraffic> traffic = nullptr)
      : name_(std::move(name)), traffic_(std::move(traffic)) {}
  CanTraffic& traffic() const;

 private:
  friend class VirtualCanPort;
  void attach(VirtualCanPort* p);
  void detach(VirtualCanPort* p);
  Status transmit(VirtualCanPort* from, const CanFrame& f);

  std::string name_;
  std::vector<VirtualCanPort*> ports_;
  BusFaults faults_;
  std::map<std::uint32_t, CanFrame> frozen_;  // per frozen id, the frame repeated
  std::map<std::uint32_t, CanFrame> last_;    // per id, the last frame delivered
  std::uint64_t faulted_ = 0;
  bool logged_ = true;
  std::shared_ptr<CanTraffic> traffic_;  // null: the process's
};

class VirtualCanPort final : public CanBus {
 public:
  explicit VirtualCanPort(std::string bus_name);  // the process's hub of that name
  explicit VirtualCanPort(std::shared_ptr<VirtualCanHub> hub);
  ~VirtualCanPort() override;
  std::string name() const override { return hub_->name(); }
  Status open(Clock& clock) override;
  void close() override;
  Status send(const CanFrame& frame) override;
  BusState state() const override;
  void set_logged(bool on) override { hub_->set_logged(on); }
  bool logged() const override { return hub_->logged(); }
  VirtualCanHub& hub() { return *hub_; }

 private:
  friend class VirtualCanHub;
  void receive(const CanFrame& f, Time at, Duration delay);

  std::shared_ptr<VirtualCanHub> hub_;
  Clock* clock_ = nullptr;
  // Deliveries still posted when the port closes must not run: they check this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(false);
};

}  // namespace zhil::can
