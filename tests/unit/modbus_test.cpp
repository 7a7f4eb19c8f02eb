// Modbus: register encoding, maps, SunSpec definitions and discovery, read coalescing, TCP framing,
// and the driver against the simulators' servers over loopback, in simulated time.
#include <gtest/gtest.h>
#include <modbus/modbus.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "devices/modbus/modbus_driver.hpp"
#include "devices/modbus/modbus_rtu_server.hpp"
#include "devices/modbus/modbus_tcp_server.hpp"
#include "devices/modbus/read_plan.hpp"
#include "devices/modbus/register_map.hpp"
#include "devices/modbus/simulator_nameplate.hpp"
#include "devices/modbus/simulator_registers.hpp"
#include "devices/modbus/sunspec_layout.hpp"
#include "devices/modbus/tcp_framing.hpp"
#include "devices/modbus/worker_transport.hpp"
#include "devices/sim/simulated_inverter_device.hpp"
#include "devices/sim/simulated_pack_device.hpp"
#include "devices/sim/simulator_params.hpp"
#include "devices/sim/site_simulator.hpp"
#include "harness/config/config_error.hpp"
#include "harness/device_roles.hpp"
#include "harness/real_time_clock.hpp"
#include "harness/simulated_clock.hpp"
#include "test_support.hpp"

namespace zhil::modbus {
namespace {

using test::source_path;

// ---- register values

TEST(RegisterValue, DecodesEveryTypeInBothWordOrders) {
  RegisterFormat u32{RegisterType::u32, 2, WordOrder::big, true};
  const std::uint16_t big[] = {0x0001, 0x0002};
  EXPECT_EQ(*decode_raw(u32, big), 65538.0);
  u32.order = WordOrder::little;
  EXPECT_EQ(*decode_raw(u32, big), 131073.0);
  RegisterFormat s16{RegisterType::s16, 1, WordOrder::big, true};
  const std::uint16_t minus_two[] = {0xFFFE};
  EXPECT_EQ(*decode_raw(s16, minus_two), -2.0);
  RegisterFormat f32{RegisterType::f32, 2, WordOrder::big, true};
  const std::uint16_t one_half[] = {0x3F00, 0x0000};
  EXPECT_EQ(*decode_raw(f32, one_half), 0.5);
  RegisterFormat u64{RegisterType::u64, 4, WordOrder::big, true};
  const std::uint16_t big64[] = {0, 0, 1, 0};
  EXPECT_EQ(*decode_raw(u64, big64), 65536.0);
}

TEST(RegisterValue, NotImplementedPatternsReadAsAbsent) {
  const std::uint16_t ffff[] = {0xFFFF, 0xFFFF};
  const std::uint16_t x8000[] = {0x8000, 0x0000};
  EXPECT_FALSE(decode_raw({RegisterType::u16, 1, WordOrder::big, true}, ffff));
  EXPECT_FALSE(decode_raw({RegisterType::s16, 1, WordOrder::big, true}, x8000));
  EXPECT_FALSE(decode_raw({RegisterType::u32, 2, WordOrder::big, true}, ffff));
  EXPECT_FALSE(decode_raw({RegisterType::s32, 2, WordOrder::big, true}, x8000));
  EXPECT_FALSE(decode_raw({RegisterType::sunssf, 1, WordOrder::big, true}, x8000));
  // A plain map (not SunSpec) has no such patterns: 0xFFFF is 65535.
  EXPECT_EQ(*decode_raw({RegisterType::u16, 1, WordOrder::big, false}, ffff), 65535.0);
}

TEST(RegisterValue, EncoderRefusesWhatItsTypeCannotHold) {
  std::uint16_t r[4] = {};
  EXPECT_FALSE(encode_raw({RegisterType::u16, 1, WordOrder::big, true}, 70000, r));
  EXPECT_FALSE(encode_raw({RegisterType::u16, 1, WordOrder::big, true}, -1, r));
  // The top of u16 is its not-implemented pattern: never a real value.
  EXPECT_FALSE(encode_raw({RegisterType::u16, 1, WordOrder::big, true}, 65535, r));
  EXPECT_FALSE(encode_raw({RegisterType::s16, 1, WordOrder::big, true}, -32768, r));
  EXPECT_FALSE(encode_raw({RegisterType::s16, 1, WordOrder::big, true}, std::nan(""), r));
  ASSERT_TRUE(encode_raw({RegisterType::s32, 2, WordOrder::little, true}, -3, r));
  EXPECT_EQ(*decode_raw({RegisterType::s32, 2, WordOrder::little, true}, r), -3.0);
  encode_string("SunSpec", std::span<std::uint16_t>(r, 4));
  EXPECT_EQ(decode_string(std::span<const std::uint16_t>(r, 4)), "SunSpec");
}

// ---- maps

std::string scratch_map(const std::string& name, const std::string& text) {
  return test::write_file(test::scratch_dir("modbus-maps"), name, text);
}

TEST(RegisterMap, ShippedMapsLoad) {
  for (const char* m : {"sunspec-inverter", "sunspec-battery", "zinc-bromine-bms"}) {
    const RegisterMap map = load_register_map(source_path(std::string("fixtures/modbus/") + m + ".yaml"));
    EXPECT_EQ(map.name, m);
    EXPECT_FALSE(map.entries.empty());
  }
}

TEST(RegisterMap, ErrorsNameFileLineAndColumn) {
  const std::string bad_key = scratch_map("k.yaml", "map: m\nregisters:\n  - {name: a, address: 1, type: u16, sclae: 2}\n");
  try {
    load_register_map(bad_key);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("k.yaml:3:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sclae"), std::string::npos) << e.what();
  }
  // A command on a read-only register is refused when the map is read, not at the first write.
  const std::string ro = scratch_map("ro.yaml", "map: m\nregisters:\n  - {name: a, address: 1, type: u16, writes: p_set, range: [0, 1]}\n");
  EXPECT_THROW(load_register_map(ro), ConfigError);
  const std::string no_range = scratch_map("nr.yaml", "map: m\nregisters:\n  - {name: a, address: 1, type: u16, access: rw, writes: p_set}\n");
  EXPECT_THROW(load_register_map(no_range), ConfigError);
  const std::string bad_addr = scratch_map("ad.yaml", "map: m\nregisters:\n  - {name: a, address: 0x1FFFF, type: u16}\n");
  EXPECT_THROW(load_register_map(bad_addr), ConfigError);
  const std::string no_point = scratch_map("np.yaml", "map: m\nsunspec: {models: " + source_path("fixtures/sunspec") +
                                                         ", require: [1]}\npoints:\n  - {point: 704.WSetX}\n");
  // The models path is relative to the map: an absolute one works the same.
  try {
    load_register_map(no_point);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("has no point WSetX"), std::string::npos) << e.what();
  }
}

TEST(RegisterMap, WritesOnlyDeclaredWritableRegistersInsideTheirRange) {
  const RegisterMap map = load_register_map(source_path("fixtures/modbus/zinc-bromine-bms.yaml"));
  const MapEntry* soc = map.find_signal("soc");
  const MapEntry* strip = map.find_signal("strip_request");
  ASSERT_TRUE(soc && strip);
  EXPECT_FALSE(check_write(*soc, 0.5));  // read-only
  EXPECT_TRUE(check_write(*strip, 1));
  EXPECT_FALSE(check_write(*strip, 2));  // not a value the map lists
  RegisterWindow w{0x9000, std::vector<std::uint16_t>(0x40, 0)};
  EXPECT_TRUE(map.single_writes);
  EXPECT_FALSE(encode_entry(*soc, 0.5, 1, 1, w));
  EXPECT_TRUE(std::all_of(w.regs.begin(), w.regs.end(), [](std::uint16_t r) { return r == 0; }));
  ASSERT_TRUE(encode_entry(*strip, 1, 1, 1, w));
  EXPECT_EQ(w.regs[0x34], 1);
}

TEST(RegisterMap, OutOfRangeReadingIsAnError) {
  const RegisterMap map = load_register_map(source_path("fixtures/modbus/zinc-bromine-bms.yaml"));
  const MapEntry* soc = map.find_signal("soc");
  RegisterWindow w{0x9000, std::vector<std::uint16_t>(0x40, 0)};
  w.regs[0x11] = 5000;  // 50.00 %
  Decoded d;
  ASSERT_TRUE(decode_entry(*soc, w, 1, 1, &d));
  EXPECT_DOUBLE_EQ(d.value, 0.5);
  w.regs[0x11] = 0x7FFE;  // 327 %: a corrupted value
  const Status s = decode_entry(*soc, w, 1, 1, &d);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("outside its valid range"), std::string::npos) << s.message();
}

// ---- SunSpec definitions and discovery

TEST(SunSpec, OffsetsComeFromTheOfficialDefinitions) {
  // Computed here independently of the loader: each point's offset is the sum of the sizes before it.
  auto set = SunSpecModelSet::load(source_path("fixtures/sunspec"));
  for (int id : {1, 701, 702, 704, 711, 713, 802}) {
    std::ifstream f(source_path("fixtures/sunspec/model_" + std::to_string(id) + ".json"));
    const auto j = nlohmann::json::parse(f);
    int offset = 0;
    const SunSpecModel* m = set->find(id);
    ASSERT_TRUE(m);
    for (const auto& p : j["group"]["points"]) {
      const SunSpecPoint* pt = m->find(p["name"].get<std::string>());
      ASSERT_TRUE(pt) << id << " " << p["name"];
      EXPECT_EQ(pt->offset, offset) << id << "." << pt->name;
      EXPECT_EQ(pt->format.words, p["size"].get<int>());
      offset += p["size"].get<int>();
    }
  }
  EXPECT_EQ(set->find(704)->find("WSet")->offset, 24);
  EXPECT_EQ(set->find(704)->find("WSet")->sf, "WSet_SF");
  EXPECT_TRUE(set->find(704)->find("WSet")->writable);
  EXPECT_EQ(set->find(701)->find("Hz")->format.type, RegisterType::u32);
}

TEST(SunSpec, ShippedDefinitionsAreTheOfficialOnes) {
  const std::string shared = source_path("../shared/sunspec");
  std::ifstream probe(shared + "/model_1.json");
  if (!probe) GTEST_SKIP() << "../shared/sunspec is not here";
  for (int id : {1, 124, 701, 702, 703, 704, 705, 706, 707, 708, 709, 710, 711, 712, 713, 714, 715, 802, 803, 804, 805}) {
    const std::string name = "/model_" + std::to_string(id) + ".json";
    EXPECT_EQ(test::read_file(shared + name), test::read_file(source_path("fixtures/sunspec") + name)) << name;
  }
}

std::vector<std::uint16_t> space_with(int base, const std::vector<std::pair<int, int>>& models, bool end = true) {
  std::vector<std::uint16_t> regs(65536, 0);
  regs[static_cast<std::size_t>(base)] = 0x5375;
  regs[static_cast<std::size_t>(base) + 1] = 0x6E53;
  int at = base + 2;
  for (auto [id, len] : models) {
    regs[static_cast<std::size_t>(at)] = static_cast<std::uint16_t>(id);
    regs[static_cast<std::size_t>(at) + 1] = static_cast<std::uint16_t>(len);
    at += 2 + len;
  }
  if (end) regs[static_cast<std::size_t>(at)] = 0xFFFF;
  return regs;
}

SunSpecDiscovery run_discovery(const std::vector<std::uint16_t>& regs, int missing_base = -1) {
  SunSpecDiscovery d;
  while (auto r = d.next()) {
    if (r->address == missing_base) {
      d.feed(true, {}, "exception 02 illegal data address");
      continue;
    }
    d.feed(false, {regs.begin() + r->address, regs.begin() + r->address + r->count});
  }
  return d;
}

TEST(SunSpec, DiscoveryFollowsTheChainFromEachStandardBase) {
  auto d = run_discovery(space_with(40000, {{1, 66}, {701, 153}, {704, 65}}));
  ASSERT_TRUE(d.error().empty()) << d.error();
  ASSERT_EQ(d.result().models.size(), 3u);
  EXPECT_EQ(d.result().models[1].address, 40070);
  EXPECT_EQ(d.result().models[2].id, 704);
  // Not at 40000 (an exception there), at 0.
  auto d0 = run_discovery(space_with(0, {{1, 66}}), 40000);
  ASSERT_TRUE(d0.error().empty()) << d0.error();
  EXPECT_EQ(d0.result().base, 0);
  auto d5 = run_discovery(space_with(50000, {{1, 66}}), 40000);
  EXPECT_EQ(d5.result().base, 50000);
}

TEST(SunSpec, DiscoveryRefusesWhatIsNotSunSpec) {
  std::vector<std::uint16_t> nothing(65536, 0);
  auto d = run_discovery(nothing);
  EXPECT_NE(d.error().find("not a SunSpec device"), std::string::npos) << d.error();
  auto no_end = run_discovery(space_with(40000, {{1, 66}}, false));
  EXPECT_NE(no_end.error().find("no end marker"), std::string::npos) << no_end.error();
}

TEST(SunSpec, ResolutionNamesTheModelOrPointADeviceLacks) {
  const RegisterMap map = load_register_map(source_path("fixtures/modbus/sunspec-inverter.yaml"));
  RegisterMap out;
  auto lacking_704 = lay_out_models(*map.models, {1, 701, 702});
  Status s = resolve_map(map, lacking_704, &out);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("lacks SunSpec model 704"), std::string::npos) << s.message();
  SunSpecLayout shorter = lay_out_models(*map.models, {1, 701, 702, 704});
  shorter.models[3].length = 20;  // an older, shorter revision of 704 without WSet
  s = resolve_map(map, shorter, &out);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("lacks point"), std::string::npos) << s.message();
  // Optional models (711, 713, 802, 64900) may be absent.
  EXPECT_TRUE(resolve_map(map, lay_out_models(*map.models, {1, 701, 702, 704}), &out));
}

// ---- coalescing

TEST(ReadPlan, FewestRequestsOfAtMost125Registers) {
  const RegisterMap map = load_register_map(source_path("fixtures/modbus/sunspec-inverter.yaml"));
  RegisterMap r;
  const SunSpecLayout l = lay_out_models(*map.models, {1, 701, 702, 704, 711, 713, 802, 64900});
  ASSERT_TRUE(resolve_map(map, l, &r));
  const auto runs = plan_reads(r, {ReadableBlock{l.base, l.end + 1}}, ReadSet::full);
  int covered = 0;
  for (const ReadRun& run : runs) {
    EXPECT_LE(run.count, 125);
    covered += run.count;
  }
  // Every entry needed is inside a run.
  for (const MapEntry& e : r.entries) {
    if (!e.resolved() || (e.role != EntryRole::reads && e.role != EntryRole::info)) continue;
    EXPECT_TRUE(std::any_of(runs.begin(), runs.end(), [&](const ReadRun& run) {
      return e.address >= run.address && e.address + e.format.words <= run.address + run.count;
    })) << e.name;
  }
  // The chain spans about 560 registers: five reads cover all of it, and no plan does with fewer.
  EXPECT_LE(runs.size(), 6u);
  // Without a readable block, runs never span a gap.
  const RegisterMap zbm = load_register_map(source_path("fixtures/modbus/zinc-bromine-bms.yaml"));
  const auto z_cycle = plan_reads(zbm, zbm.blocks, ReadSet::cycle);
  // Inside the reference driver's reads (0x9001+4, 0x9008, 0x9010..0x9019); never the gaps between.
  ASSERT_EQ(z_cycle.size(), 3u);
  EXPECT_EQ(z_cycle[0].address, 0x9001);
  EXPECT_EQ(z_cycle[0].count, 4);
  EXPECT_EQ(z_cycle[2].address, 0x9011);  // the serial (0x9010) is read at activation
  EXPECT_EQ(z_cycle[2].count, 9);
  const auto z_none = plan_reads(zbm, {}, ReadSet::cycle);
  EXPECT_GT(z_none.size(), 1u);
}

// ---- TCP framing

TEST(TcpFraming, RepliesAreCheckedAgainstTheirRequest) {
  Request r{Function::read_holding, 1, 40000, 2, {}};
  auto req = build_tcp_request(r, 7);
  ASSERT_EQ(req.size(), 12u);
  EXPECT_EQ(req[7], 3);
  std::vector<std::uint8_t> ok = {0, 7, 0, 0, 0, 7, 1, 3, 4, 0x53, 0x75, 0x6E, 0x53};
  std::vector<std::uint16_t> regs;
  EXPECT_EQ(decode_tcp_reply(r, 7, ok.data(), ok.size(), &regs).kind, FailureKind::none);
  EXPECT_EQ(regs[0], 0x5375);
  auto wrong_tid = ok;
  wrong_tid[1] = 8;
  EXPECT_EQ(decode_tcp_reply(r, 7, wrong_tid.data(), wrong_tid.size(), &regs).kind, FailureKind::bad_reply);
  auto wrong_fc = ok;
  wrong_fc[7] = 4;
  EXPECT_EQ(decode_tcp_reply(r, 7, wrong_fc.data(), wrong_fc.size(), &regs).kind, FailureKind::bad_reply);
  auto wrong_unit = ok;
  wrong_unit[6] = 2;
  EXPECT_EQ(decode_tcp_reply(r, 7, wrong_unit.data(), wrong_unit.size(), &regs).kind, FailureKind::bad_reply);
  auto short_reply = ok;
  short_reply.resize(11);
  short_reply[5] = 5;
  EXPECT_NE(decode_tcp_reply(r, 7, short_reply.data(), short_reply.size(), &regs).kind, FailureKind::none);
  std::vector<std::uint8_t> exception = {0, 7, 0, 0, 0, 3, 1, 0x83, 2};
  const Failure f = decode_tcp_reply(r, 7, exception.data(), exception.size(), &regs);
  EXPECT_EQ(f.kind, FailureKind::exception);
  EXPECT_EQ(f.exception_code, 2);
  EXPECT_EQ(tcp_body_length(exception.data()), 2u);
  std::vector<std::uint8_t> not_modbus = {0, 7, 0, 1, 0, 3, 1};
  EXPECT_EQ(tcp_body_length(not_modbus.data()), 0u);
}

// ---- the simulators behind their servers, and the driver, in simulated time

struct Loopback {
  boost::asio::io_context io;
  SimulatedClock clock{io};
  SignalTable table;
  sim::SiteSimulator site{60.0};
  sim::PackModel* pack = nullptr;
  std::shared_ptr<SimulatorRegisters> backend;
  std::unique_ptr<ModbusTcpServer> server;
  std::unique_ptr<ModbusDriver> driver;
  std::shared_ptr<Transport> transport;

  struct Observer : DeviceObserver {
    int done = 0;
    Status last;
    void device_done(Device&, DeviceOp, const Status& s) override {
      ++done;
      last = s;
    }
  } observer;

  std::unique_ptr<ModbusRtuServer> rtu_server;

  // Over Modbus TCP on loopback; or, given a pseudo-terminal pair, over RTU: the server on one end,
  // zhil's RTU client (libmodbus on its worker) on the other, 19200 8N1.
  Loopback(const std::string& map_file, std::vector<int> units, const std::string& pack_params = "",
           const std::pair<std::string, std::string>& serial_line = {}, Duration timeout = std::chrono::milliseconds(500),
           bool libmodbus_client = false) {
    ConfigNode params = test::fixture_entry("fixtures/packs/zh-160kwh-16s.yaml");
    sim::PackParams p = sim::load_pack_params(params);
    if (pack_params == "strip-due") {
      p.initial_time_since_strip_s = 71.9 * 3600;
      p.initial_soc = 0.04;  // a short maintenance discharge before the strip
    }
    pack = &site.add_pack("pack1", p, 1);
    auto map = cached_register_map(source_path(map_file));
    if (units.empty())
      for (int u = 1; u <= p.modules; ++u) units.push_back(u);
    backend = std::make_shared<SimulatorRegisters>(
        map, units, std::make_unique<sim::SimulatedPackDevice>("pack1", *pack, Duration{0}, "SN-1"));
    EXPECT_TRUE(pack_nameplate(*backend, p, "SN-1"));
    auto lock = std::make_shared<LockStep>();
    Endpoint ep;
    TransportTiming timing;
    timing.timeout = timeout;
    if (serial_line.first.empty()) {
      server = std::make_unique<ModbusTcpServer>(*backend, "127.0.0.1", 0, lock);
      ep.port = server->port();
      ep.libmodbus_client = libmodbus_client;
    } else {
      rtu_server = std::make_unique<ModbusRtuServer>(*backend, serial_line.first, 19200);
      ep.rtu = true;
      ep.device = serial_line.second;
      ep.baud = 19200;
    }
    transport = make_transport(ep, timing, lock);
    driver = std::make_unique<ModbusDriver>("pack1", "pack", DriverSpec{map, units, transport, Duration{0}, Duration{0}});
    DeviceContext ctx{table, clock, Duration{0}};
    EXPECT_TRUE(backend->configure(clock, Duration{0}));
    EXPECT_TRUE(driver->configure(ctx));
    driver->set_observer(&observer, 0);
    EXPECT_TRUE(backend->activate(clock.now()));
    if (server) server->start(clock);
    else rtu_server->start(io);
  }
  ~Loopback() {
    driver->detach();
    if (server) server->stop();
    else rtu_server->stop();
    backend->detach();
  }
  // Runs the operation to its end (lock-step: simulated time stands still meanwhile).
  Status op(const std::function<bool()>& start) {
    const int before = observer.done;
    EXPECT_TRUE(start());
    while (observer.done == before) clock.run_one();
    return observer.last;
  }
  double value(const std::string& name) { return table.value(table.find(name)); }
};

TEST(ModbusLoopback, ZincBromineMapShowsTheStripCycleAsTheProductReportsIt) {
  Loopback lb("fixtures/modbus/zinc-bromine-bms.yaml", {}, "strip-due");
  ASSERT_TRUE(lb.op([&] { return lb.driver->start_activate(lb.clock.now()); })) << lb.observer.last.message();
  // One unit id per module, gathered into the pack's signals.
  EXPECT_NE(lb.driver->identity().find(','), std::string::npos);
  std::vector<double> states;
  bool due_seen = false, running_with_bit = false;
  // Close the contactor (enter run), then ask for the strip and let the BMS run it.
  lb.table.set_value(lb.table.find("pack1.contactor_cmd.applied"), 1);
  ASSERT_TRUE(lb.op([&] { return lb.driver->start_write(lb.clock.now()); }));
  Time t{0};
  for (int step = 0; step < 200 && (states.empty() || states.back() != 702 || !running_with_bit); ++step) {
    // The pack alone (no inverter on its bus): its BMS runs the maintenance discharge itself.
    for (int k = 0; k < 120; ++k) lb.pack->step(1.0, 0.0);
    t += std::chrono::minutes(2);
    ASSERT_TRUE(lb.op([&] { return lb.driver->start_read(lb.clock.now()); })) << lb.observer.last.message();
    lb.driver->publish(t, lb.table);
    const double state = lb.value("pack1.state");
    if (states.empty() || states.back() != state) states.push_back(state);
    due_seen = due_seen || lb.value("pack1.strip_due") == 1;
    if ((state == 712 || state == 713) && lb.value("pack1.stripping") == 1) running_with_bit = true;
    // Requested while due, withdrawn once it runs (as a core does).
    const double request = lb.value("pack1.strip_due") == 1 && lb.value("pack1.stripping") == 0 ? 1 : 0;
    lb.table.set_value(lb.table.find("pack1.strip_request.applied"), request);
    ASSERT_TRUE(lb.op([&] { return lb.driver->start_write(lb.clock.now()); }));
    // Per module and gathered: the pack's voltage is the sum of its modules'.
    double sum = 0;
    for (int m = 1; m <= 16; ++m) {
      char n[32];
      std::snprintf(n, sizeof n, "pack1.m%02d.v", m);
      sum += lb.value(n);
    }
    EXPECT_NEAR(lb.value("pack1.v"), sum, 1e-6);
  }
  EXPECT_TRUE(due_seen);               // warning bit 11
  EXPECT_TRUE(running_with_bit);       // warning bit 10 while 712/713
  // Run (or safe shutdown), maintenance discharge, anode strip, run again: the product's codes.
  const std::vector<double> cycle{712, 713, 702};
  EXPECT_NE(std::search(states.begin(), states.end(), cycle.begin(), cycle.end()), states.end())
      << ::testing::PrintToString(states);
}

TEST(ModbusLoopback, LibmodbusTcpClientOnItsWorkerDrivesTheSameMapInLockStep) {
  // `client: libmodbus`: libmodbus's own TCP client on a worker thread, still in simulated time.
  Loopback lb("fixtures/modbus/sunspec-battery.yaml", {1}, "", {}, std::chrono::milliseconds(500), true);
  ASSERT_NE(dynamic_cast<WorkerTransport*>(lb.transport.get()), nullptr);
  ASSERT_TRUE(lb.op([&] { return lb.driver->start_activate(lb.clock.now()); })) << lb.observer.last.message();
  EXPECT_EQ(lb.driver->identity().find("zhil"), 0u) << lb.driver->identity();
  const Time t0 = lb.clock.now();
  ASSERT_TRUE(lb.op([&] { return lb.driver->start_read(lb.clock.now()); })) << lb.observer.last.message();
  EXPECT_EQ(lb.clock.now(), t0);  // the simulated clock waited for the worker's reply
  lb.driver->publish(lb.clock.now(), lb.table);
  EXPECT_NEAR(lb.value("pack1.soc"), lb.pack->soc(), 0.01);
  lb.table.set_value(lb.table.find("pack1.i_charge_allowed"), 20);
  ASSERT_TRUE(lb.op([&] { return lb.driver->start_write(lb.clock.now()); })) << lb.observer.last.message();
  EXPECT_GT(lb.server->counters().requests, 3u);
  EXPECT_EQ(lb.transport->failures(), 0u);
}

TEST(ModbusLoopback, ARefusedWriteNeverReachesTheWire) {
  Loopback lb("fixtures/modbus/sunspec-battery.yaml", {1});
  ASSERT_TRUE(lb.op([&] { return lb.driver->start_activate(lb.clock.now()); })) << lb.observer.last.message();
  const auto requests = lb.server->counters().requests;
  // i_charge_allowed's range is [0, 5000] A: 1e6 A is refused before anything is sent.
  lb.table.set_value(lb.table.find("pack1.i_charge_allowed"), 1e6);
  const Status s = lb.op([&] { return lb.driver->start_write(lb.clock.now()); });
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("outside its valid range"), std::string::npos) << s.message();
  EXPECT_EQ(lb.server->counters().requests, requests);
}

TEST(ModbusLoopback, ServerAnswersIllegalAddressValueAndReadOnlyWithExceptions) {
  Loopback lb("fixtures/modbus/sunspec-battery.yaml", {1});
  // A bare libmodbus client on its own thread, the server on the loop (real time here: the
  // client is not lock-stepped).
  std::atomic<bool> stop{false};
  std::vector<int> errors;
  std::thread client([&] {
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", lb.server->port());
    modbus_set_slave(ctx, 1);
    modbus_connect(ctx);
    std::uint16_t regs[4];
    auto err = [&](int rc) { errors.push_back(rc < 0 ? errno - MODBUS_ENOBASE : 0); };
    err(modbus_read_registers(ctx, 40000, 2, regs));      // SunS: fine
    err(modbus_read_registers(ctx, 30000, 2, regs));      // no such register: 02
    const auto& m = lb.backend->layout();
    const int state = m.find(802)->address + 22;          // 802.State: read-only
    err(modbus_write_register(ctx, state, 3));            // 02
    const int setop = m.find(802)->address + 50;          // 802.SetOp: 1 or 2 only
    err(modbus_write_register(ctx, setop, 7));            // 03
    err(modbus_write_register(ctx, setop, 2));            // fine
    modbus_close(ctx);
    modbus_free(ctx);
    stop = true;
  });
  while (!stop) lb.io.run_one_for(std::chrono::milliseconds(5));
  client.join();
  EXPECT_EQ(errors, (std::vector<int>{0, 2, 2, 3, 0}));
}

// ---- zhil's own RTU client against its RTU server, over a serial line (a pseudo-terminal pair)

// Two linked pseudo-terminals made by socat (as a USB-RS485 adapter pair would be), removed after.
struct PseudoTerminalPair {
  pid_t pid = -1;
  std::filesystem::path dir;
  std::string a, b;
  bool ready = false;
  PseudoTerminalPair() {
    char tmpl[] = "/tmp/zhil-rtu-XXXXXX";
    if (!mkdtemp(tmpl)) return;
    dir = tmpl;
    a = (dir / "a").string();
    b = (dir / "b").string();
    const std::string left = "pty,raw,echo=0,link=" + a, right = "pty,raw,echo=0,link=" + b;
    char* argv[] = {const_cast<char*>("socat"), const_cast<char*>(left.c_str()), const_cast<char*>(right.c_str()), nullptr};
    if (posix_spawnp(&pid, "socat", nullptr, nullptr, argv, environ) != 0) {
      pid = -1;
      return;
    }
    // Waiting for socat to make both links (a precondition, not a measured time).
    for (int k = 0; k < 1000 && !ready; ++k) {
      ready = std::filesystem::exists(a) && std::filesystem::exists(b);
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~PseudoTerminalPair() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

bool socat_installed() { return std::system("command -v socat >/dev/null 2>&1") == 0; }

TEST(ModbusRtu, ZhilsClientReadsGathersAndCommandsModulesOverASerialLine) {
  if (!socat_installed()) GTEST_SKIP() << "socat is needed (Debian package socat; lab/setup.sh installs it)";
  PseudoTerminalPair line;
  ASSERT_TRUE(line.ready) << "socat did not make " << line.a << " and " << line.b;
  Loopback lb("fixtures/modbus/zinc-bromine-bms.yaml", {1, 2}, "", {line.a, line.b});
  ASSERT_TRUE(lb.op([&] { return lb.driver->start_activate(lb.clock.now()); })) << lb.observer.last.message();
  EXPECT_EQ(lb.transport->endpoint().describe(), line.b + " 19200 8N1");
  ASSERT_TRUE(lb.op([&] { return lb.driver->start_read(lb.clock.now()); })) << lb.observer.last.message();
  lb.driver->publish(lb.clock.now(), lb.table);
  // Two modules (units 1 and 2), each its own BMS, gathered: the string's voltage is their sum.
  const double m1 = lb.value("pack1.m01.v"), m2 = lb.value("pack1.m02.v");
  EXPECT_GT(m1, 40);
  EXPECT_LT(m1, 70);
  EXPECT_NEAR(lb.value("pack1.v"), m1 + m2, 1e-6);
  EXPECT_EQ(lb.rtu_server->counters().malformed, 0u);
  // A command goes out as the product's FC06 single writes, to both units, and reaches the BMS.
  const auto requests = lb.rtu_server->counters().requests;
  lb.table.set_value(lb.table.find("pack1.contactor_cmd.applied"), 1);
  ASSERT_TRUE(lb.op([&] { return lb.driver->start_write(lb.clock.now()); })) << lb.observer.last.message();
  EXPECT_GE(lb.rtu_server->counters().requests, requests + 2);
  EXPECT_EQ(lb.transport->failures(), 0u);
}

TEST(ModbusRtu, AModuleThatDoesNotAnswerIsATimeoutNamingItsUnitAndRegister) {
  if (!socat_installed()) GTEST_SKIP() << "socat is needed (Debian package socat; lab/setup.sh installs it)";
  PseudoTerminalPair line;
  ASSERT_TRUE(line.ready);
  // The server presents units 1 and 2; the driver also asks unit 3, which nothing answers.
  Loopback lb("fixtures/modbus/zinc-bromine-bms.yaml", {1, 2}, "", {line.a, line.b}, std::chrono::milliseconds(200));
  auto extra = std::make_unique<ModbusDriver>(
      "pack2", "pack", DriverSpec{cached_register_map(source_path("fixtures/modbus/zinc-bromine-bms.yaml")), {1, 3},
                                  lb.transport, Duration{0}, Duration{0}});
  DeviceContext ctx{lb.table, lb.clock, Duration{0}};
  ASSERT_TRUE(extra->configure(ctx));
  extra->set_observer(&lb.observer, 1);
  const Status s = lb.op([&] { return extra->start_activate(lb.clock.now()); });
  extra->detach();
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("unit 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("timeout"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(line.b), std::string::npos) << s.message();
  EXPECT_GE(lb.transport->failures(FailureKind::timeout), 1u);
}

}  // namespace
}  // namespace zhil::modbus
