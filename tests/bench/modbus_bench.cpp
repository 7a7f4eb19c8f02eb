// Modbus benchmarks (not tests), all in one run:
//   (a) one link: 125 holding registers read from the simulated pack's server over loopback TCP,
//       many times: p50 / p99 round trip and client CPU per read, for zhil's transport, a bare
//       libmodbus loop (the limit) and a pymodbus client (Debian's python3-pymodbus), same server;
//   (b) scale: 64 simulated devices that each answer 10 ms after a request, each read in full (125
//       registers) and written every 100 ms cycle for N seconds of real time: missed cycles, p50 /
//       p99 cycle completion; and a sequential pymodbus script polling the same 64 servers;
//   (c) the 24 h one-pack scenario with its inverter and pack behind Modbus TCP, in simulated time:
//       x real time.
//   build/bin/zhil_modbus_bench [scale seconds, default 600] [reads, default 20000]
#include <modbus/modbus.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "devices/modbus/modbus_tcp_server.hpp"
#include "devices/modbus/modbus_transport.hpp"
#include "devices/modbus/simulator_nameplate.hpp"
#include "devices/modbus/simulator_registers.hpp"
#include "devices/sim/simulated_pack_device.hpp"
#include "devices/sim/simulator_params.hpp"
#include "devices/sim/site_simulator.hpp"
#include "harness/real_time_clock.hpp"
#include "lab/scenario_runner.hpp"

using namespace zhil;
using namespace zhil::modbus;
using Clk = std::chrono::steady_clock;

namespace {

double thread_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Simulated packs served over Modbus TCP from their own thread and loop (real time).
struct Servers {
  boost::asio::io_context io;
  RealTimeClock clock{io};
  sim::SiteSimulator site{60.0};
  std::vector<std::shared_ptr<SimulatorRegisters>> backends;
  std::vector<std::unique_ptr<ModbusTcpServer>> servers;
  std::thread thread;
  bool stop = false;

  Servers(int n, Duration delay) {
    ConfigNode params = ConfigNode(YAML::Load("{file: " + std::string(ZHIL_SOURCE_DIR) + "/fixtures/packs/zh-160kwh-16s.yaml}"),
                                   std::make_shared<const std::string>("bench"), "params");
    const sim::PackParams p = sim::load_pack_params(params);
    auto map = cached_register_map(std::string(ZHIL_SOURCE_DIR) + "/fixtures/modbus/sunspec-battery.yaml");
    for (int k = 0; k < n; ++k) {
      sim::PackModel& m = site.add_pack("pack" + std::to_string(k), p, static_cast<std::uint64_t>(k + 1));
      auto b = std::make_shared<SimulatorRegisters>(
          map, std::vector<int>{1}, std::make_unique<sim::SimulatedPackDevice>("pack", m, Duration{0}, "BENCH"));
      (void)pack_nameplate(*b, p, "BENCH");
      (void)b->configure(clock, Duration{0});
      (void)b->activate(Time{0});
      auto s = std::make_unique<ModbusTcpServer>(*b, "127.0.0.1", 0);
      ServerFaults f;
      f.delay = delay;
      s->set_faults(f);
      s->start(clock);
      backends.push_back(b);
      servers.push_back(std::move(s));
    }
    tick();
    thread = std::thread([this] {
      while (!stop) clock.run_one();
    });
  }
  ~Servers() {
    stop = true;
    thread.join();
    for (auto& s : servers) s->stop();
  }
  int port(int k) const { return servers[static_cast<std::size_t>(k)]->port(); }
  // 802.SetOp: a register every device of the bench may be written.
  int writable() const { return backends[0]->layout().find(802)->address + 50; }
  // Keeps the loop alive, and lets it end when asked (a timer every 50 ms).
  void tick() {
    if (!stop) clock.call_after(std::chrono::milliseconds(50), [this] { tick(); });
  }
};

std::string python_reads(int port, int reads) {
  return "import time, statistics\nfrom pymodbus.client import ModbusTcpClient\nc = ModbusTcpClient('127.0.0.1', port=" +
         std::to_string(port) + ")\nc.connect()\nrt = []\ncpu0 = time.process_time()\nfor _ in range(" + std::to_string(reads) +
         "):\n    t = time.perf_counter()\n    r = c.read_holding_registers(40002, 125, slave=1)\n    assert not r.isError()\n"
         "    rt.append(time.perf_counter() - t)\ncpu = time.process_time() - cpu0\nrt.sort()\n"
         "print(f'{rt[len(rt)//2]*1e6:.0f} {rt[int(len(rt)*0.99)]*1e6:.0f} {cpu/len(rt)*1e6:.1f} {len(rt)/sum(rt):.0f}')\n";
}

std::string run_python(const std::string& code) {
  const std::string path = "/tmp/zhil-modbus-bench.py";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(code.c_str(), f);
  std::fclose(f);
  FILE* p = popen(("/usr/bin/python3 " + path + " 2>&1").c_str(), "r");
  std::string out;
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void one_link(int reads) {
  Servers servers(1, Duration{0});
  const int port = servers.port(0);
  std::printf("(a) one link: %d reads of 125 holding registers from the simulated pack over loopback TCP\n", reads);
  std::printf("    %-22s %10s %10s %14s %12s\n", "client", "p50 us", "p99 us", "CPU us/read", "reads/s");

  {  // zhil's transport, on its own loop
    boost::asio::io_context io;
    RealTimeClock clock(io);
    Endpoint ep;
    ep.port = port;
    auto t = make_transport(ep, TransportTiming{});
    std::vector<double> rt;
    rt.reserve(static_cast<std::size_t>(reads));
    const double cpu0 = thread_cpu_s();
    const auto t0 = Clk::now();
    for (int k = 0; k < reads; ++k) {
      bool done = false;
      const auto s = Clk::now();
      t->submit(clock, Request{Function::read_holding, 1, 40002, 125, {}}, [&](const Result& r) {
        if (!r.ok()) std::abort();
        done = true;
      });
      while (!done) clock.run_one();
      rt.push_back(std::chrono::duration<double>(Clk::now() - s).count());
    }
    const double wall = std::chrono::duration<double>(Clk::now() - t0).count();
    std::printf("    %-22s %10.0f %10.0f %14.1f %12.0f\n", "zhil (Asio, loop)", percentile(rt, 0.5) * 1e6,
                percentile(rt, 0.99) * 1e6, (thread_cpu_s() - cpu0) / reads * 1e6, reads / wall);
    t->cancel_all();
  }
  {  // bare libmodbus
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
    modbus_set_slave(ctx, 1);
    modbus_connect(ctx);
    std::vector<double> rt;
    std::uint16_t regs[125];
    const double cpu0 = thread_cpu_s();
    const auto t0 = Clk::now();
    for (int k = 0; k < reads; ++k) {
      const auto s = Clk::now();
      if (modbus_read_registers(ctx, 40002, 125, regs) != 125) std::abort();
      rt.push_back(std::chrono::duration<double>(Clk::now() - s).count());
    }
    const double wall = std::chrono::duration<double>(Clk::now() - t0).count();
    std::printf("    %-22s %10.0f %10.0f %14.1f %12.0f\n", "bare libmodbus", percentile(rt, 0.5) * 1e6,
                percentile(rt, 0.99) * 1e6, (thread_cpu_s() - cpu0) / reads * 1e6, reads / wall);
    modbus_close(ctx);
    modbus_free(ctx);
  }
  {  // pymodbus
    const std::string out = run_python(python_reads(port, reads));
    double p50 = 0, p99 = 0, cpu = 0, rate = 0;
    if (std::sscanf(out.c_str(), "%lf %lf %lf %lf", &p50, &p99, &cpu, &rate) == 4)
      std::printf("    %-22s %10.0f %10.0f %14.1f %12.0f\n", "pymodbus 3.0 (sync)", p50, p99, cpu, rate);
    else
      std::printf("    pymodbus: %s\n", out.c_str());
  }
}

void scale(int seconds) {
  constexpr int kDevices = 64;
  Servers servers(kDevices, std::chrono::milliseconds(10));
  std::printf("\n(b) scale: %d simulated devices answering after 10 ms, each read in full (125 registers) and\n"
              "    written every 100 ms cycle, %d s of real time\n", kDevices, seconds);
  boost::asio::io_context io;
  RealTimeClock clock(io);
  std::vector<std::shared_ptr<Transport>> links;
  for (int k = 0; k < kDevices; ++k) {
    Endpoint ep;
    ep.port = servers.port(k);
    links.push_back(make_transport(ep, TransportTiming{std::chrono::milliseconds(80), 0, std::chrono::milliseconds(100),
                                                       std::chrono::seconds(1)}));
  }
  std::vector<double> completion;
  int missed = 0, failed = 0, cycles = 0;
  const Time end = clock.now() + std::chrono::seconds(seconds);
  Time due = clock.now() + std::chrono::milliseconds(100);
  while (due < end) {
    bool fired = false;
    clock.call_at(due, [&] { fired = true; }, true);
    while (!fired) clock.run_one();
    int pending = kDevices;
    for (auto& l : links) {
      Transport* t = l.get();
      t->submit(clock, Request{Function::read_holding, 1, 40002, 125, {}}, [&, t](const Result& r) {
        if (!r.ok()) ++failed;
        // Then a write (the contactor command, 802.SetOp: connect).
        t->submit(clock, Request{Function::write_single, 1, servers.writable(), 1, {1}}, [&](const Result& w) {
          if (!w.ok()) ++failed;
          --pending;
        });
      });
    }
    while (pending > 0 && clock.now() < due + std::chrono::milliseconds(100)) clock.run_one();
    const double took = to_seconds(clock.now() - due);
    if (pending > 0) {
      ++missed;
      while (pending > 0) clock.run_one();
    }
    completion.push_back(took);
    ++cycles;
    due += std::chrono::milliseconds(100);
    if (clock.now() > due) {  // a cycle that ran into the next one: count the skipped ones as missed
      while (due < clock.now()) {
        due += std::chrono::milliseconds(100);
        ++missed;
      }
    }
  }
  std::printf("    zhil: %d cycles, %d missed, %d failed requests; cycle completion p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              cycles, missed, failed, percentile(completion, 0.5) * 1e3, percentile(completion, 0.99) * 1e3,
              percentile(completion, 1.0) * 1e3);
  std::string ports;
  for (int k = 0; k < kDevices; ++k) ports += (k ? "," : "") + std::to_string(servers.port(k));
  const std::string code =
      "import time\nfrom pymodbus.client import ModbusTcpClient\nports=[" + ports +
      "]\ncs=[ModbusTcpClient('127.0.0.1', port=p) for p in ports]\nfor c in cs: c.connect()\nlens=[]\n"
      "for cycle in range(20):\n    t=time.perf_counter()\n    for c in cs:\n        r=c.read_holding_registers(40002,125,slave=1)\n"
      "        assert not r.isError()\n        c.write_register(" + std::to_string(servers.writable()) + ",1,slave=1)\n    lens.append(time.perf_counter()-t)\n"
      "lens.sort()\nprint(f'{lens[len(lens)//2]*1e3:.0f}')\n";
  const std::string out = run_python(code);
  const double ms = std::atof(out.c_str());
  std::printf("    sequential pymodbus script, same 64 servers: a cycle takes %s ms (p50 of 20), %.1fx the 100 ms cycle: "
              "it falls %.0f ms behind every cycle\n", out.c_str(), ms / 100.0, ms - 100.0);
}

void day_over_modbus() {
  lab::ScenarioRunRequest r;
  r.scenario_file = std::string(ZHIL_SOURCE_DIR) + "/scenarios/peak-shaving-24h-1pack.yaml";
  r.station_file = std::string(ZHIL_SOURCE_DIR) + "/fixtures/stations/bench-1pack-modbus.yaml";
  r.out_dir = "/tmp/zhil-modbus-bench-24h";
  r.overwrite = true;
  const auto t0 = Clk::now();
  const lab::ScenarioRunOutcome o = lab::run_scenario(r);
  const double wall = std::chrono::duration<double>(Clk::now() - t0).count();
  std::printf("\n(c) 24 h one-pack scenario, inverter and pack behind Modbus TCP (SunSpec), simulated time:\n"
              "    %s in %.1f s wall: %.0fx real time\n", to_string(o.verdict), wall, 86400.0 / wall);
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 600;
  const int reads = argc > 2 ? std::atoi(argv[2]) : 20000;
  one_link(reads);
  scale(seconds);
  day_over_modbus();
  return 0;
}
