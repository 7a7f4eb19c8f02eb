// `core: external`: the control core under test is another program (the real EMS) that reads and
// commands the devices itself over Modbus TCP, at the ports the station's links `serve` on
// (external_face.hpp). This core writes nothing: zhil runs the scenario's grid, load and fault
// events, records every signal, bounds what the external program writes with the safety envelope
// and evaluates the checks.
//
// In real time that is all. A program that cooperates can also run in simulated time, in lock-step
// (core params `lockstep: {port: N}`): zhil serves a small map of its own on 127.0.0.1:N (holding
// registers, any unit id):
//   0-1  cycle     u32  the cycle zhil has just read the devices for (1, 2, ...)
//   2-5  time_ms   u64  its simulated time, in milliseconds since the run began
//   6-7  ack       u32  written by the program: the last cycle it has finished with (rw)
// and holds simulated time at each cycle until the program has written ack = cycle. Commands the
// program writes before its ack are the requests of the next cycle's write phase, so a control-core
// CI job runs a 24 h day as fast as the program answers, the same on every run.
#include <memory>

#include "devices/modbus/modbus_tcp_server.hpp"
#include "devices/modbus/register_backend.hpp"
#include "harness/config/config_error.hpp"
#include "harness/config/station_config.hpp"
#include "harness/control_core.hpp"

namespace zhil::modbus {
namespace {

class LockstepRegisters final : public RegisterBackend {
 public:
  std::function<void(std::uint32_t ack)> on_ack;
  void publish(std::uint32_t cycle, std::uint64_t time_ms) {
    auto& r = w_.regs;
    r[0] = static_cast<std::uint16_t>(cycle >> 16);
    r[1] = static_cast<std::uint16_t>(cycle & 0xFFFF);
    for (int k = 0; k < 4; ++k) r[static_cast<std::size_t>(2 + k)] = static_cast<std::uint16_t>(time_ms >> (16 * (3 - k)));
  }
  std::uint32_t ack() const { return static_cast<std::uint32_t>(w_.regs[6]) << 16 | w_.regs[7]; }

  bool has_unit(int) const override { return true; }
  void refresh(int) override {}
  RegisterWindow& window(int) override { return w_; }
  int check_read(int, int address, int count) const override { return w_.holds(address, count) ? 0 : 2; }
  int check_write(int, int address, const std::uint16_t*, int count) const override {
    return address >= 6 && address + count <= 8 ? 0 : 2;  // only ack is writable
  }
  void written(int, int, int) override {
    if (on_ack) on_ack(ack());
  }

 private:
  RegisterWindow w_{0, std::vector<std::uint16_t>(8, 0)};
};

class ExternalCore final : public ControlCore {
 public:
  void configure(const CoreContext& c, CoreIo&) override {
    clock_ = c.clock;
    if (ConfigNode n = c.params.get("lockstep"); n.defined()) {
      n.expect_keys({"port"});
      if (c.real_time) n.fail("lockstep is for simulated time; in real time the external core keeps its own pace");
      const int port = static_cast<int>(n.require("port").as_integer(1, 65535));
      registers_ = std::make_unique<LockstepRegisters>();
      registers_->on_ack = [this](std::uint32_t ack) {
        if (ack >= cycle_) hold_.release();
      };
      try {
        server_ = std::make_unique<ModbusTcpServer>(*registers_, "127.0.0.1", port);
      } catch (const std::exception& e) {
        n["port"].fail(e.what());
      }
      server_->start(*clock_);
      return;
    }
    if (!c.real_time)
      throw ConfigError(c.station.core_where + ": core: external is another program on the wall clock: run with --realtime, "
                        "or give the core lockstep: {port: N} if the program acknowledges each cycle");
  }
  ~ExternalCore() override {
    if (server_) server_->stop();
  }
  void step(Time now, CoreIo&) override {
    if (!registers_) return;
    ++cycle_;
    registers_->publish(cycle_, static_cast<std::uint64_t>(to_seconds(now) * 1000.0 + 0.5));
    if (registers_->ack() < cycle_)
      hold_ = clock_->hold("the external core's acknowledgement of cycle " + std::to_string(cycle_) + " (lock-step port " +
                           std::to_string(server_->port()) + ")");
  }

 private:
  Clock* clock_ = nullptr;
  std::unique_ptr<LockstepRegisters> registers_;
  std::unique_ptr<ModbusTcpServer> server_;
  std::uint32_t cycle_ = 0;
  IoHold hold_;
};

struct Registration {
  Registration() { CoreRegistry::instance().add("external", [] { return std::make_unique<ExternalCore>(); }); }
  ~Registration() { CoreRegistry::instance().remove("external"); }
} const kExternal;

}  // namespace
}  // namespace zhil::modbus
