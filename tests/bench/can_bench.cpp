// Benchmark (not a test): CAN at full load. Four virtual buses, each carrying about 8,000 frames/s
// (a 1 Mbit/s bus full of 8-byte frames: ~130 bits each), zhil's frames of the zinc-halogen pack;
// on each, the CAN pack driver decodes every frame into the pack's signals and the run's CAN log
// sink writes every frame (candump format). In the same run, bus 0 is served over socketcand and
// Debian's python3-can decodes the same feed, for comparison. Real time; prints frames sent,
// received, logged and dropped, and the CPU share of one core of zhil and of python-can.
//   zhil_can_bench [seconds=10] [frames per second per bus=8000]
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "devices/can/can_codec.hpp"
#include "devices/can/can_log_sink.hpp"
#include "devices/can/can_map.hpp"
#include "devices/can/can_pack_driver.hpp"
#include "devices/can/socketcand_server.hpp"
#include "devices/can/virtual_can_bus.hpp"
#include "harness/real_time_clock.hpp"
#include "harness/recording/test_record.hpp"

using namespace zhil;
using namespace zhil::can;

namespace {
double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Observer : DeviceObserver {
  void device_done(Device&, DeviceOp, const Status&) override {}
};
}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  const int rate = argc > 2 ? std::atoi(argv[2]) : 8000;
  constexpr int kBuses = 4;
  boost::asio::io_context io;
  RealTimeClock clock(io);
  auto map = std::make_shared<const CanMap>(load_can_map(std::string(ZHIL_SOURCE_DIR) + "/fixtures/can/zinc-halogen-hv.yaml", 16));
  // The frames a pack sends, encoded once: status, limits, state, thermal, identity, 16 module frames.
  std::vector<CanFrame> frames;
  for (const DbcMessage* m : map->read_messages) {
    std::vector<int> sels{-1};
    if (m->multiplexor()) {
      sels.clear();
      for (int k = 0; k < 16; ++k) sels.push_back(k);
    }
    for (int sel : sels) {
      CanFrame f = blank_frame(*m);
      if (sel >= 0) insert_raw(*m->multiplexor(), static_cast<std::uint64_t>(sel), f);
      for (const DbcSignal& s : m->signals)
        if (s.mux != DbcSignal::Mux::multiplexor && (s.mux == DbcSignal::Mux::none || s.mux_value == sel))
          (void)encode_signal(s, s.has_range() ? (s.min + s.max) / 2 : 1, f);
      frames.push_back(f);
    }
  }
  const std::string dir = std::filesystem::temp_directory_path().string() + "/zhil-can-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  CanLogSink logs;
  SignalTable table;
  (void)logs.on_started(RunInfo{"bench", dir, true}, table);

  std::vector<std::unique_ptr<VirtualCanPort>> senders;
  std::vector<std::unique_ptr<CanPackDriver>> drivers;
  Observer obs;
  for (int b = 0; b < kBuses; ++b) {
    const std::string bus = "bench" + std::to_string(b);
    senders.push_back(std::make_unique<VirtualCanPort>(bus));
    (void)senders.back()->open(clock);
    auto d = std::make_unique<CanPackDriver>("pack" + std::to_string(b), "pack", map, std::make_shared<VirtualCanPort>(bus));
    DeviceContext ctx{table, clock, Duration{0}};
    if (!d->configure(ctx)) return 1;
    d->set_observer(&obs, static_cast<std::size_t>(b));
    d->start_activate(clock.now());
    drivers.push_back(std::move(d));
  }
  SocketcandServer server({"bench0"}, "127.0.0.1", 0);
  server.start(clock);
  // python-can on bus 0 through socketcand, decoding PackVoltage of every ZH_Status it gets.
  const std::string py = R"(
import can, sys, time, struct
bus = can.Bus(interface="socketcand", channel="bench0", host="127.0.0.1", port=int(sys.argv[1]))
print("ready", flush=True)
n = 0; v = 0.0
t0 = time.time(); c0 = time.process_time()
end = t0 + float(sys.argv[2]) + 1
while time.time() < end:
    m = bus.recv(0.2)
    if m is None: continue
    n += 1
    if m.arbitration_id == 0x4C1: v = struct.unpack_from("<H", m.data, 0)[0] * 0.1
print(n, time.process_time() - c0, v, flush=True)
bus.shutdown()
)";
  const std::string script = dir + "/peer.py";
  std::FILE* f = std::fopen(script.c_str(), "w");
  std::fputs(py.c_str(), f);
  std::fclose(f);
  const std::string cmd = "/usr/bin/python3 " + script + " " + std::to_string(server.port()) + " " + std::to_string(seconds);
  std::FILE* peer = ::popen(cmd.c_str(), "r");
  // Wait until python-can is in raw mode (its "ready" comes after the handshake).
  char line[256] = {0};
  bool ready = false;
  while (!ready) {
    io.run_one_for(std::chrono::milliseconds(5));
    int fd = fileno(peer);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(fd, &rs);
    timeval tv{0, 0};
    if (select(fd + 1, &rs, nullptr, nullptr, &tv) > 0 && std::fgets(line, sizeof line, peer)) ready = std::string(line).rfind("ready", 0) == 0;
  }
  for (int k = 0; k < 200; ++k) io.run_one_for(std::chrono::milliseconds(1));  // its rawmode answer out

  // Every millisecond, rate/1000 frames per bus.
  std::uint64_t sent = 0;
  const int per_tick = rate / 1000;
  std::size_t next = 0;
  const Time start = clock.now();
  const Time end = start + from_seconds(seconds);
  const double cpu0 = cpu_seconds(RUSAGE_SELF);
  Time at = start;
  std::function<void()> tick = [&] {
    if (at >= end) return;
    for (int b = 0; b < kBuses; ++b)
      for (int k = 0; k < per_tick; ++k) {
        CanFrame fr = frames[(next + static_cast<std::size_t>(k)) % frames.size()];
        if (senders[static_cast<std::size_t>(b)]->send(fr)) ++sent;
      }
    next += static_cast<std::size_t>(per_tick);
    at += std::chrono::milliseconds(1);  // from the schedule, not from when this tick ran: no drift
    clock.call_at(at, tick, true);
  };
  clock.call_at(start, tick, true);
  bool done = false;
  clock.call_at(end + std::chrono::milliseconds(300), [&] { done = true; });
  while (!done) clock.run_one();
  const double cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
  const double wall = to_seconds(clock.now() - start);
  std::uint64_t received = 0, decode_errors = 0;
  for (auto& d : drivers) {
    for (const auto& [k, v] : d->io_counts()) {
      if (k == "frames received") received += v;
      if (k == "decode errors") decode_errors += v;
    }
  }
  TestRecord rec;
  (void)logs.on_finished(rec);
  // python-can's report
  while (!std::fgets(line, sizeof line, peer)) {
  }
  ::pclose(peer);
  long py_frames = 0;
  double py_cpu = 0, py_v = 0;
  std::sscanf(line, "%ld %lf %lf", &py_frames, &py_cpu, &py_v);
  std::printf("zhil_can_bench: %d buses x %d frames/s for %.1f s (wall %.2f s)\n", kBuses, rate, seconds, wall);
  std::printf("  frames sent %llu, decoded by the drivers %llu, dropped %lld, decode errors %llu, logged %llu\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
              static_cast<long long>(sent) - static_cast<long long>(received), static_cast<unsigned long long>(decode_errors),
              static_cast<unsigned long long>(logs.frames()));
  std::printf("  zhil CPU %.2f s = %.1f %% of one core (the buses, decoding, logging, the socketcand feed)\n", cpu, 100 * cpu / wall);
  std::printf("  socketcand feed of bus 0: %llu frames out, %llu dropped for a slow client\n",
              static_cast<unsigned long long>(server.counters().frames_out), static_cast<unsigned long long>(server.counters().dropped));
  std::printf("  python-can on that feed: %ld frames decoded, CPU %.2f s = %.1f %% of one core (last PackVoltage %.1f V)\n", py_frames,
              py_cpu, 100 * py_cpu / wall, py_v);
  server.stop();
  return 0;
}
