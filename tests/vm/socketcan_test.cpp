// zhil's SocketCAN transport on a real kernel CAN stack: these tests run inside a QEMU virtual
// machine booting Debian's kernel with vcan0 up (lab/run-in-vm.sh; ctest test socketcan_in_vm),
// because the host running the suite may have no SocketCAN. They talk to can-utils there too.
#include <gtest/gtest.h>
#include <linux/can.h>
#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "devices/can/socketcan_bus.hpp"
#include "harness/real_time_clock.hpp"

namespace zhil::can {
namespace {

constexpr const char* kIf = "vcan0";

struct Loop {
  boost::asio::io_context io;
  RealTimeClock clock{io};
  // Runs the loop until `done`, with a hang guard (not a measured time).
  bool until(const std::function<bool()>& done) {
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < limit) io.run_one_for(std::chrono::milliseconds(10));
    return done();
  }
};

CanFrame frame(std::uint32_t id, std::initializer_list<std::uint8_t> bytes, bool ext = false) {
  CanFrame f;
  f.id = id;
  f.extended = ext;
  for (auto b : bytes) f.data[f.len++] = b;
  return f;
}

TEST(SocketCan, FramesGoBothWaysBetweenTwoSocketsOnTheLoop) {
  Loop l;
  SocketCanBus a({kIf}), b({kIf});
  std::vector<CanFrame> at_a, at_b;
  a.set_receiver([&](const CanFrame& f, Time) { at_a.push_back(f); });
  b.set_receiver([&](const CanFrame& f, Time) { at_b.push_back(f); });
  ASSERT_TRUE(a.open(l.clock)) << a.last_error();
  ASSERT_TRUE(b.open(l.clock));
  ASSERT_TRUE(a.send(frame(0x123, {0xDE, 0xAD, 0xBE, 0xEF})));
  ASSERT_TRUE(a.send(frame(0x1ABCDEF0, {1, 2, 3}, true)));
  ASSERT_TRUE(b.send(frame(0x7FF, {})));
  ASSERT_TRUE(l.until([&] { return at_b.size() == 2 && at_a.size() == 1; }));
  EXPECT_EQ(to_compact(at_b[0]), "123#DEADBEEF");
  EXPECT_EQ(at_b[1], frame(0x1ABCDEF0, {1, 2, 3}, true));
  EXPECT_EQ(to_compact(at_a[0]), "7FF#");
  EXPECT_EQ(a.counters().tx, 2u);
  EXPECT_EQ(b.counters().rx, 2u);
}

TEST(SocketCan, FiltersChooseWhatTheKernelDelivers) {
  Loop l;
  SocketCanBus a({kIf}), b({kIf});
  std::vector<CanFrame> got;
  b.set_filters({{0x200, 0x7F0, false}});
  b.set_receiver([&](const CanFrame& f, Time) { got.push_back(f); });
  ASSERT_TRUE(a.open(l.clock));
  ASSERT_TRUE(b.open(l.clock));
  for (std::uint32_t id : {0x100u, 0x201u, 0x2FFu, 0x20Fu}) ASSERT_TRUE(a.send(frame(id, {1})));
  ASSERT_TRUE(a.send(frame(0x3FF, {9})));  // a marker the filter also drops
  ASSERT_TRUE(l.until([&] { return got.size() >= 2; }));
  // Let anything else that would come come: a frame sent after the marker on the other filter.
  SocketCanBus c({kIf});
  std::vector<CanFrame> all;
  c.set_receiver([&](const CanFrame& f, Time) { all.push_back(f); });
  ASSERT_TRUE(c.open(l.clock));
  ASSERT_TRUE(a.send(frame(0x555, {})));
  ASSERT_TRUE(l.until([&] { return !all.empty(); }));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, 0x201u);
  EXPECT_EQ(got[1].id, 0x20Fu);
}

TEST(SocketCan, ManyFramesAreReadWithoutBlockingTheLoop) {
  Loop l;
  SocketCanBus a({kIf}), b({kIf});
  int got = 0, ticks = 0;
  b.set_receiver([&](const CanFrame&, Time) { ++got; });
  ASSERT_TRUE(a.open(l.clock));
  ASSERT_TRUE(b.open(l.clock));
  // A timer keeps firing while frames stream in: the loop is never stuck in a read.
  std::function<void()> tick = [&] {
    ++ticks;
    l.clock.call_after(std::chrono::milliseconds(1), tick);
  };
  l.clock.call_after(std::chrono::milliseconds(1), tick);
  int sent = 0;
  for (int k = 0; k < 2000; ++k) {
    if (a.send(frame(0x100 + static_cast<std::uint32_t>(k % 256), {static_cast<std::uint8_t>(k)}))) ++sent;
    if (k % 50 == 0) l.io.poll();
  }
  ASSERT_TRUE(l.until([&] { return got == sent && ticks > 5; })) << got << " of " << sent;
  EXPECT_GT(sent, 1000);
}

TEST(SocketCan, InterfaceControlOnVcanIsAClearError) {
  BusState s = BusState::active;
  const Status st = socketcan_state(kIf, &s);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("vcan0: can_get_state failed"), std::string::npos) << st.message();
  const Status br = socketcan_set_bitrate(kIf, 500000);
  ASSERT_FALSE(br);
  EXPECT_NE(br.message().find("vcan0: can_set_bitrate failed"), std::string::npos) << br.message();
  // Start and stop work on vcan (link state only).
  EXPECT_TRUE(socketcan_stop(kIf));
  EXPECT_TRUE(socketcan_start(kIf));
  Loop l;
  SocketCanBus missing({"nocan7"});
  const Status o = missing.open(l.clock);
  ASSERT_FALSE(o);
  EXPECT_NE(o.message().find("nocan7"), std::string::npos) << o.message();
}

TEST(SocketCan, ErrorFramesAreCountedAndBusOffStartsRecovery) {
  Loop l;
  SocketCanBus b({kIf, 0, std::chrono::milliseconds(10), std::chrono::milliseconds(40)});
  std::vector<CanFrame> got;
  b.set_receiver([&](const CanFrame& f, Time) { got.push_back(f); });
  ASSERT_TRUE(b.open(l.clock));
  // A raw socket of our own puts an error frame (bus-off) on vcan0, as a controller driver would.
  const int s = ::socket(PF_CAN, SOCK_RAW, CAN_RAW);
  ASSERT_GE(s, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, kIf, IFNAMSIZ - 1);
  ASSERT_EQ(::ioctl(s, SIOCGIFINDEX, &ifr), 0);
  sockaddr_can addr{};
  addr.can_family = AF_CAN;
  addr.can_ifindex = ifr.ifr_ifindex;
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  can_frame k{};
  k.can_id = CAN_ERR_FLAG | CAN_ERR_BUSOFF;
  k.len = CAN_ERR_DLC;
  const bool written = ::write(s, &k, sizeof k) == static_cast<ssize_t>(sizeof k);
  ::close(s);
  if (!written) GTEST_SKIP() << "this kernel does not pass a user error frame on vcan";
  ASSERT_TRUE(l.until([&] { return !got.empty(); }));
  EXPECT_TRUE(got[0].error);
  EXPECT_EQ(b.counters().bus_off, 1u);
  EXPECT_EQ(b.state(), BusState::bus_off);
  EXPECT_FALSE(b.send(frame(0x100, {})));  // refused while bus-off
  // Recovery is tried with backoff; on vcan can_do_restart has no link data: a clear error, retried.
  ASSERT_TRUE(l.until([&] { return b.counters().restarts >= 2; }));
  EXPECT_NE(b.last_error().find("can_do_restart"), std::string::npos) << b.last_error();
}

TEST(SocketCan, CanUtilsSeeZhilsFramesAndZhilSeesTheirs) {
  Loop l;
  SocketCanBus a({kIf});
  std::vector<CanFrame> got;
  a.set_receiver([&](const CanFrame& f, Time) { got.push_back(f); });
  ASSERT_TRUE(a.open(l.clock));
  // candump in the background, one frame.
  std::FILE* dump = ::popen("candump -L -n 1 vcan0", "r");
  ASSERT_NE(dump, nullptr);
  // candump needs a moment to bind: send until it has taken one (it exits after -n 1).
  char line[256] = {0};
  for (int k = 0; k < 200 && line[0] == 0; ++k) {
    ASSERT_TRUE(a.send(frame(0x4C1, {0xAB, 0x21})));
    l.io.poll();
    ::usleep(20000);  // pacing the retries while candump starts, not a measured time
    int fd = fileno(dump);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(fd, &rs);
    timeval tv{0, 0};
    if (::select(fd + 1, &rs, nullptr, nullptr, &tv) > 0 && std::fgets(line, sizeof line, dump) == nullptr) break;
  }
  ::pclose(dump);
  EXPECT_NE(std::string(line).find("vcan0 4C1#AB21"), std::string::npos) << line;
  ASSERT_EQ(std::system("cansend vcan0 35E#5A494E43"), 0);
  ASSERT_TRUE(l.until([&] { return !got.empty(); }));
  EXPECT_EQ(to_compact(got.back()), "35E#5A494E43");
}

TEST(SocketCan, CanplayerPlaysAZhilLogOntoTheBus) {
  // A run's bus log (candump format, run-relative times, the virtual bus's name) played by can-utils'
  // canplayer onto vcan0, read back by zhil.
  const char* log = "/tmp/zhil-can-pack1.log";
  std::FILE* f = std::fopen(log, "w");
  ASSERT_NE(f, nullptr);
  std::fputs("(0.000000) can-pack1 4C1#AB2100007017FF41\n(0.010000) can-pack1 4C0#58024003FFFFFFFF\n", f);
  std::fclose(f);
  Loop l;
  SocketCanBus a({kIf});
  std::vector<CanFrame> got;
  a.set_receiver([&](const CanFrame& fr, Time) { got.push_back(fr); });
  ASSERT_TRUE(a.open(l.clock));
  ASSERT_EQ(std::system("canplayer vcan0=can-pack1 -I /tmp/zhil-can-pack1.log"), 0);
  ASSERT_TRUE(l.until([&] { return got.size() == 2; }));
  EXPECT_EQ(to_compact(got[0]), "4C1#AB2100007017FF41");
  EXPECT_EQ(to_compact(got[1]), "4C0#58024003FFFFFFFF");
}

}  // namespace
}  // namespace zhil::can
