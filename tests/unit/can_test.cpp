// CAN: DBC parsing and the table-driven codec (against the public worked examples), the socketcand
// protocol, virtual buses and their faults, and zhil's socketcand server and client over loopback.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <functional>

#include "devices/can/can_codec.hpp"
#include "devices/can/dbc.hpp"
#include "devices/can/socketcand_bus.hpp"
#include "devices/can/socketcand_protocol.hpp"
#include "devices/can/socketcand_server.hpp"
#include "devices/can/virtual_can_bus.hpp"
#include "harness/config/config_error.hpp"
#include "harness/real_time_clock.hpp"
#include "harness/simulated_clock.hpp"
#include "test_support.hpp"

namespace zhil::can {
namespace {

using test::source_path;

CanFrame frame(std::uint32_t id, std::initializer_list<std::uint8_t> bytes) {
  CanFrame f;
  f.id = id;
  for (std::uint8_t b : bytes) f.data[f.len++] = b;
  return f;
}

double value_of(const Dbc& dbc, const std::string& dotted, const CanFrame& f, bool* present = nullptr) {
  auto [m, s] = dbc.find_signal(dotted);
  EXPECT_TRUE(m && s) << dotted;
  SignalValue v;
  EXPECT_TRUE(decode_signal(*m, *s, f, &v)) << dotted;
  if (present) *present = v.present;
  return v.present ? v.value : std::nan("");
}

std::string errors_of(const std::string& text) {
  try {
    (void)parse_dbc(text, "t.dbc");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kHeader = "VERSION \"\"\nNS_ :\n\tCM_\nBS_:\nBU_: A B\n";

TEST(Dbc, ShippedFilesLoadWithTheirCycleTimesAndTimeouts) {
  const Dbc lv = load_dbc(source_path("fixtures/can/battery-inverter-lv.dbc"));
  const Dbc hv = load_dbc(source_path("fixtures/can/zinc-halogen-hv.dbc"));
  for (std::uint32_t id : {0x351u, 0x355u, 0x356u, 0x359u, 0x35Au, 0x35Cu, 0x35Eu, 0x35Fu}) {
    const DbcMessage* m = lv.find(id, false);
    ASSERT_NE(m, nullptr) << std::hex << id;
    EXPECT_EQ(m->cycle, std::chrono::seconds(1));
    EXPECT_EQ(m->timeout, std::chrono::seconds(5));
  }
  EXPECT_EQ(lv.find(0x351, false)->shortest(), 6);
  EXPECT_NE(lv.comment.find("domain.md"), std::string::npos);  // names its sources
  // The two sets do not collide.
  for (const DbcMessage& m : hv.messages) EXPECT_EQ(lv.find(m.id, m.extended), nullptr) << m.name;
  const DbcMessage* modules = hv.find("ZH_Module");
  ASSERT_NE(modules, nullptr);
  ASSERT_NE(modules->multiplexor(), nullptr);
  EXPECT_EQ(modules->find("M16_Voltage")->mux_value, 15);
  EXPECT_EQ(hv.find("ZH_Status")->cycle, std::chrono::milliseconds(100));
  EXPECT_EQ(hv.find("ZH_Thermal")->timeout, std::chrono::seconds(5));
}

TEST(Dbc, TheWorkedExamplesOfTheLowVoltageFramesEncodeAndDecodeByteForByte) {
  const Dbc lv = load_dbc(source_path("fixtures/can/battery-inverter-lv.dbc"));
  // 0x351: 56.8 V / 100.0 A / 150.0 A / 44.0 V is 38 02 E8 03 DC 05 B8 01.
  const CanFrame limits = frame(0x351, {0x38, 0x02, 0xE8, 0x03, 0xDC, 0x05, 0xB8, 0x01});
  EXPECT_NEAR(value_of(lv, "BMS_Limits.ChargeVoltageLimit", limits), 56.8, 1e-9);
  EXPECT_NEAR(value_of(lv, "BMS_Limits.ChargeCurrentLimit", limits), 100.0, 1e-9);
  EXPECT_NEAR(value_of(lv, "BMS_Limits.DischargeCurrentLimit", limits), 150.0, 1e-9);
  EXPECT_NEAR(value_of(lv, "BMS_Limits.DischargeVoltageLimit", limits), 44.0, 1e-9);
  CanFrame built = blank_frame(*lv.find(0x351, false));
  const DbcMessage& m351 = *lv.find(0x351, false);
  for (auto [name, v] : {std::pair{"ChargeVoltageLimit", 56.8}, {"ChargeCurrentLimit", 100.0}, {"DischargeCurrentLimit", 150.0},
                         {"DischargeVoltageLimit", 44.0}})
    ASSERT_TRUE(encode_signal(*m351.find(name), v, built));
  EXPECT_EQ(built, limits);
  // 0x356: 52.31 V, 12.5 A discharging (negative: positive is charging), 24.6 degC.
  const CanFrame meas = frame(0x356, {0x6F, 0x14, 0x83, 0xFF, 0xF6, 0x00, 0x00, 0x00});
  EXPECT_NEAR(value_of(lv, "BMS_Measurements.BatteryVoltage", meas), 52.31, 1e-9);
  EXPECT_NEAR(value_of(lv, "BMS_Measurements.BatteryCurrent", meas), -12.5, 1e-9);
  EXPECT_NEAR(value_of(lv, "BMS_Measurements.BatteryTemperature", meas), 24.6, 1e-9);
  CanFrame m = blank_frame(*lv.find(0x356, false));
  const DbcMessage& m356 = *lv.find(0x356, false);
  ASSERT_TRUE(encode_signal(*m356.find("BatteryVoltage"), 52.31, m));
  ASSERT_TRUE(encode_signal(*m356.find("BatteryCurrent"), -12.5, m));
  ASSERT_TRUE(encode_signal(*m356.find("BatteryTemperature"), 24.6, m));
  EXPECT_EQ(m, meas);
}

TEST(Dbc, VariantsShortFramesAndInvalidValuesReadAsAbsent) {
  const Dbc lv = load_dbc(source_path("fixtures/can/battery-inverter-lv.dbc"));
  bool present = true;
  // 0x351 with DLC 6: no discharge voltage limit, the rest as usual.
  const CanFrame six = frame(0x351, {0x38, 0x02, 0xE8, 0x03, 0xDC, 0x05});
  EXPECT_NEAR(value_of(lv, "BMS_Limits.DischargeCurrentLimit", six), 150.0, 1e-9);
  (void)value_of(lv, "BMS_Limits.DischargeVoltageLimit", six, &present);
  EXPECT_FALSE(present);
  // 0x355 with DLC 4, and with 0xFFFF as the high-resolution SOC.
  (void)value_of(lv, "BMS_SOC.SOCHighRes", frame(0x355, {50, 0, 99, 0}), &present);
  EXPECT_FALSE(present);
  EXPECT_EQ(value_of(lv, "BMS_SOC.SOC", frame(0x355, {50, 0, 99, 0})), 50);
  (void)value_of(lv, "BMS_SOC.SOCHighRes", frame(0x355, {50, 0, 99, 0, 0xFF, 0xFF}), &present);
  EXPECT_FALSE(present);
  EXPECT_NEAR(value_of(lv, "BMS_SOC.SOCHighRes", frame(0x355, {50, 0, 99, 0, 0x88, 0x13})), 50.0, 1e-9);
}

TEST(Dbc, EncoderRefusesOutOfRangeAndNeverWraps) {
  const Dbc lv = load_dbc(source_path("fixtures/can/battery-inverter-lv.dbc"));
  const DbcMessage& m356 = *lv.find(0x356, false);
  CanFrame f = blank_frame(m356);
  const CanFrame before = f;
  // An 860 V string does not fit 0x356 (s16, 0.01 V: at most 327.67 V).
  const Status s = encode_signal(*m356.find("BatteryVoltage"), 860.0, f);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("outside [-327.68, 327.67]"), std::string::npos) << s.message();
  EXPECT_EQ(f, before);  // nothing written
  // A signal without a range still refuses what its bits cannot hold.
  const Dbc d = parse_dbc(std::string(kHeader) + "BO_ 1 M: 1 A\n SG_ X : 0|4@1+ (1,0) [0|0] \"\" B\n", "t.dbc");
  CanFrame g = blank_frame(d.messages[0]);
  EXPECT_FALSE(encode_signal(d.messages[0].signals[0], 16, g));
  EXPECT_TRUE(encode_signal(d.messages[0].signals[0], 15, g));
  EXPECT_EQ(g.data[0], 0x0F);
}

TEST(Dbc, MotorolaSignedAndMultiplexedSignals) {
  const Dbc d = parse_dbc(std::string(kHeader) +
                             "BO_ 256 M: 8 A\n"
                             " SG_ Big : 7|16@0+ (1,0) [0|65535] \"\" B\n"
                             " SG_ Neg : 23|12@0- (0.5,0) [-1024|1023.5] \"\" B\n"
                             "BO_ 257 X: 4 A\n"
                             " SG_ Sel M : 0|8@1+ (1,0) [0|3] \"\" B\n"
                             " SG_ A0 m0 : 8|16@1+ (1,0) [0|65535] \"\" B\n"
                             " SG_ A1 m1 : 8|16@1+ (1,0) [0|65535] \"\" B\n",
                         "t.dbc");
  // Motorola: the start bit is the MSB (bit 7 of byte 0), bytes in big-endian order.
  const CanFrame f = frame(256, {0x12, 0x34, 0xFF, 0xE0, 0, 0, 0, 0});
  EXPECT_EQ(value_of(d, "M.Big", f), 0x1234);
  EXPECT_EQ(value_of(d, "M.Neg", f), -1.0);  // 0xFFE: -2 raw, 0.5 each
  CanFrame g = blank_frame(*d.find("M"));
  ASSERT_TRUE(encode_signal(*d.find("M")->find("Big"), 0x1234, g));
  ASSERT_TRUE(encode_signal(*d.find("M")->find("Neg"), -1.0, g));
  EXPECT_EQ(g, f);
  bool present = false;
  EXPECT_EQ(value_of(d, "X.A1", frame(257, {1, 0x34, 0x12, 0}), &present), 0x1234);
  (void)value_of(d, "X.A0", frame(257, {1, 0x34, 0x12, 0}), &present);
  EXPECT_FALSE(present);  // another multiplexer value
}

TEST(Dbc, ErrorsNameFileLineAndColumn) {
  const std::string h = kHeader;  // 5 lines
  EXPECT_EQ(errors_of(h + "BO_ 1 M: 8 A\n SG_ X : 0|8@1* (1,0) [0|1] \"\" B\n"), "t.dbc:7:15: sign must be + (unsigned) or - (signed)");
  EXPECT_NE(errors_of(h + "BO_ 1 M: 2 A\n SG_ X : 8|16@1+ (1,0) [0|1] \"\" B\n").find("t.dbc:7:10: signal X (start 8, length 16) does not fit"),
            std::string::npos);
  EXPECT_NE(errors_of(h + "BO_ 1 M: 8 A\nBA_ \"GenMsgCycleTime\" BO_ 1 100;\n").find("t.dbc:7:5: attribute \"GenMsgCycleTime\" is not declared"),
            std::string::npos);
  EXPECT_NE(errors_of(h + "BO_ 1 M: 8 A\nCM_ SG_ 1 Y \"x\";\n").find("t.dbc:7:11: message M has no signal Y"), std::string::npos);
  EXPECT_NE(errors_of(h + "BO_ 1 M: 8 A\n SG_ X : 0|8@1+ (1,0) [0|1] \"\" B\n SG_ Y : 4|8@1+ (1,0) [0|1] \"\" B\n")
                .find("t.dbc:8:6: signal Y overlaps X"),
            std::string::npos);
  EXPECT_NE(errors_of(h + "BO_ 2048 M: 8 A\n").find("t.dbc:6:5: message id 2048 needs 29 bits"), std::string::npos);
  EXPECT_NE(errors_of(h + "BO_ 1 M: 64 A\n").find("CAN FD"), std::string::npos);
  EXPECT_NE(errors_of(h + "CM_ \"never closed;\n").find("t.dbc:6:5: string not closed"), std::string::npos);
  EXPECT_NE(errors_of(h + " SG_ X : 0|8@1+ (1,0) [0|1] \"\" B\n").find("SG_ outside a message"), std::string::npos);
}

TEST(Socketcand, MessagesAreTakenFromAStreamAndMalformedOnesCounted) {
  std::uint64_t bad = 0;
  std::string buf = "< hi >< frame 123 1.000001 1122 >\n  junk < send 7FF 2 aa";
  auto m = take_messages(buf, &bad);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(bad, 1u);  // "junk"
  EXPECT_EQ(buf, "< send 7FF 2 aa");  // kept for the rest
  buf += " bb >";
  m = take_messages(buf, &bad);
  ASSERT_EQ(m.size(), 1u);
  SocketcandMessage msg;
  std::string error;
  ASSERT_TRUE(parse_message(m[0], &msg, &error)) << error;
  EXPECT_EQ(msg.kind, SocketcandMessage::Kind::send);
  EXPECT_EQ(to_compact(msg.frame), "7FF#AABB");
  for (const char* broken : {"< send 800 1 00 >", "< send 123 3 00 11 >", "< send 123 9 0 0 0 0 0 0 0 0 0 >",
                             "< send 123 1 zz >", "< frame 123 x 00 >", "< frame 123 1.0 123 >", "< open >"}) {
    EXPECT_FALSE(parse_message(broken, &msg, &error)) << broken;
  }
  ASSERT_TRUE(parse_message("< frame 1ABCDEF0 1700000000.123456 DEADBEEF >", &msg, &error));
  EXPECT_TRUE(msg.frame.extended);
  EXPECT_EQ(msg.frame.id, 0x1ABCDEF0u);
  EXPECT_EQ(format_frame(msg.frame, 1700000000.123456), "< frame 1ABCDEF0 1700000000.123456 DEADBEEF >");
  EXPECT_EQ(format_send(frame(0x35, {1, 2})), "< send 035 2 01 02 >");
  EXPECT_EQ(format_frame(frame(0x51, {}), 2.5), "< frame 051 2.500000  >");
  std::string overlong = "<" + std::string(400, 'x');
  (void)take_messages(overlong, &bad);
  EXPECT_TRUE(overlong.empty());
}

struct TwoPorts {
  boost::asio::io_context io;
  SimulatedClock clock{io};
  VirtualCanPort a{"unit-test-bus"}, b{"unit-test-bus"};
  std::vector<TimedFrame> got;
  TwoPorts() {
    (void)a.open(clock);
    (void)b.open(clock);
    b.set_receiver([this](const CanFrame& f, Time t) { got.push_back({t, f}); });
  }
  void run() {
    while (clock.run_one()) {
    }
  }
};

TEST(VirtualBus, FramesReachTheOtherPortsInOrderAtTheSendersTime) {
  TwoPorts p;
  std::vector<TimedFrame> at_a;
  p.a.set_receiver([&](const CanFrame& f, Time t) { at_a.push_back({t, f}); });
  p.clock.call_at(std::chrono::milliseconds(5), [&] {
    ASSERT_TRUE(p.a.send(frame(0x100, {1})));
    ASSERT_TRUE(p.a.send(frame(0x101, {2})));
  });
  p.run();
  ASSERT_EQ(p.got.size(), 2u);
  EXPECT_EQ(p.got[0].frame.id, 0x100u);
  EXPECT_EQ(p.got[1].at, std::chrono::milliseconds(5));
  EXPECT_TRUE(at_a.empty());  // not to the sender
  p.b.set_filters({{0x200, 0x7F0, false}});
  p.clock.call_after(std::chrono::milliseconds(1), [&] {
    (void)p.a.send(frame(0x100, {3}));
    (void)p.a.send(frame(0x20A, {4}));
  });
  p.run();
  ASSERT_EQ(p.got.size(), 3u);
  EXPECT_EQ(p.got[2].frame.id, 0x20Au);
}

TEST(VirtualBus, FaultsDropDelayCorruptFreezeBusOffAndBabble) {
  TwoPorts p;
  auto send_at = [&](int ms, std::uint32_t id, std::uint8_t v) {
    p.clock.call_at(std::chrono::milliseconds(ms), [&p, id, v] { (void)p.a.send(frame(id, {v})); });
  };
  BusFaults f;
  f.drop = {0x10};
  f.delay = {{0x11, std::chrono::milliseconds(50)}};
  f.corrupt = {0x12};
  p.a.hub().set_faults(f);
  send_at(1, 0x10, 1);
  send_at(1, 0x11, 2);
  send_at(1, 0x12, 0x0F);
  p.run();
  ASSERT_EQ(p.got.size(), 2u);
  EXPECT_EQ(p.got[0].frame.id, 0x12u);
  EXPECT_EQ(p.got[0].frame.data[0], 0xF0);
  EXPECT_EQ(p.got[1].frame.id, 0x11u);
  EXPECT_EQ(p.got[1].at, std::chrono::milliseconds(51));
  // Freeze: the last value before the fault is repeated.
  p.got.clear();
  p.a.hub().set_faults({});
  send_at(100, 0x20, 7);
  p.run();
  BusFaults fr;
  fr.freeze = {0x20};
  p.a.hub().set_faults(fr);
  send_at(110, 0x20, 8);
  p.run();
  ASSERT_EQ(p.got.size(), 2u);
  EXPECT_EQ(p.got[1].frame.data[0], 7);
  // Bus-off: a send fails; a babbling node at 0x000 starves everything above it.
  BusFaults off;
  off.bus_off = true;
  p.a.hub().set_faults(off);
  EXPECT_FALSE(p.a.send(frame(0x30, {1})));
  EXPECT_EQ(p.a.state(), BusState::bus_off);
  BusFaults babble;
  babble.babbling = true;
  p.a.hub().set_faults(babble);
  p.got.clear();
  send_at(200, 0x30, 1);
  p.run();
  EXPECT_TRUE(p.got.empty());
  EXPECT_GT(p.a.counters().dropped, 0u);
  p.a.hub().set_faults({});
}

// zhil's socketcand server and client over loopback, in real time: the client opens the bus and
// exchanges frames with a port of the served virtual bus.
TEST(Socketcand, ClientAndServerCarryFramesBothWays) {
  boost::asio::io_context io;
  RealTimeClock clock(io);
  SocketcandServer server({"sc-test"}, "127.0.0.1", 0);
  server.start(clock);
  VirtualCanPort local("sc-test");
  ASSERT_TRUE(local.open(clock));
  std::vector<CanFrame> at_local, at_client;
  local.set_receiver([&](const CanFrame& f, Time) { at_local.push_back(f); });
  SocketcandBus client({"127.0.0.1", server.port(), "sc-test"});
  client.set_receiver([&](const CanFrame& f, Time) { at_client.push_back(f); });
  ASSERT_TRUE(client.open(clock));
  auto run_until = [&](const std::function<bool()>& done) {
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);  // a hang guard, not a timing
    while (!done() && std::chrono::steady_clock::now() < limit) io.run_one_for(std::chrono::milliseconds(10));
    return done();
  };
  ASSERT_TRUE(run_until([&] { return client.state() == BusState::active; })) << client.last_error();
  ASSERT_TRUE(client.send(frame(0x356, {0x6F, 0x14})));
  ASSERT_TRUE(run_until([&] { return !at_local.empty(); }));
  EXPECT_EQ(to_compact(at_local[0]), "356#6F14");
  CanFrame ext = frame(0x1ABCDEF0, {1, 2, 3});
  ext.extended = true;
  ASSERT_TRUE(local.send(ext));
  ASSERT_TRUE(run_until([&] { return !at_client.empty(); }));
  EXPECT_EQ(at_client[0], ext);
  // A bus the server does not serve is refused by name.
  SocketcandBus wrong({"127.0.0.1", server.port(), "nope"});
  ASSERT_TRUE(wrong.open(clock));
  ASSERT_TRUE(run_until([&] { return !wrong.last_error().empty(); }));
  EXPECT_NE(wrong.last_error().find("could not open bus nope"), std::string::npos) << wrong.last_error();
  wrong.close();
  client.close();
  server.stop();
}

}  // namespace
}  // namespace zhil::can
