#include "lab/can_tools.hpp"

#include "lab/run_until_signal.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "devices/can/can_codec.hpp"
#include "devices/can/dbc.hpp"
#include "devices/can/socketcan_bus.hpp"
#include "devices/can/socketcand_bus.hpp"
#include "devices/can/socketcand_server.hpp"
#include "harness/config/config_error.hpp"
#include "harness/real_time_clock.hpp"

namespace zhil::lab {

namespace {

struct LogLine {
  double t = 0;
  std::string bus;
  can::CanFrame frame;
};

// "(1700000000.123456) can0 123#11223344" (candump -L); false with `why` for anything else.
bool parse_log_line(const std::string& line, LogLine* out, std::string* why) {
  if (line.size() < 4 || line[0] != '(') {
    *why = "expected '(seconds.micros) bus ID#DATA'";
    return false;
  }
  const auto close = line.find(')');
  if (close == std::string::npos) {
    *why = "no ')' after the time";
    return false;
  }
  char* end = nullptr;
  out->t = std::strtod(line.c_str() + 1, &end);
  if (end != line.c_str() + close) {
    *why = "bad time";
    return false;
  }
  const auto sp1 = line.find_first_not_of(' ', close + 1);
  const auto sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1);
  if (sp2 == std::string::npos) {
    *why = "expected a bus name and a frame";
    return false;
  }
  out->bus = line.substr(sp1, sp2 - sp1);
  std::string frame = line.substr(sp2 + 1);
  // candump may add a flag field (" T", " R") after the frame.
  if (auto sp = frame.find(' '); sp != std::string::npos) frame = frame.substr(0, sp);
  if (!can::parse_compact(frame, &out->frame)) {
    *why = "bad frame '" + frame + "'";
    return false;
  }
  return true;
}

std::vector<LogLine> read_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ":1:1: cannot open the CAN log");
  std::vector<LogLine> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    LogLine l;
    std::string why;
    if (!parse_log_line(line, &l, &why)) throw ConfigError(path + ":" + std::to_string(n) + ":1: " + why);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

int run_can_replay(const CanReplayOptions& o) {
  try {
    const std::vector<LogLine> lines = read_log(o.log);
    boost::asio::io_context io;
    RealTimeClock clock(io);
    std::unique_ptr<can::CanBus> bus;
    if (!o.interface.empty()) {
      can::SocketCanEndpoint ep;
      ep.interface = o.interface;
      bus = std::make_unique<can::SocketCanBus>(ep);
    } else {
      can::SocketcandEndpoint ep;
      const auto colon = o.socketcand.rfind(':');
      if (colon == std::string::npos) throw std::runtime_error("--socketcand HOST:PORT");
      ep.host = o.socketcand.substr(0, colon);
      ep.port = std::stoi(o.socketcand.substr(colon + 1));
      ep.bus = o.bus;
      bus = std::make_unique<can::SocketcandBus>(ep);
    }
    if (auto s = bus->open(clock); !s) throw std::runtime_error(s.message());
    // Wait for the bus to be up (a socketcand handshake), then play.
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (bus->state() != can::BusState::active && std::chrono::steady_clock::now() < limit) io.run_one_for(std::chrono::milliseconds(20));
    if (bus->state() != can::BusState::active) throw std::runtime_error("bus " + bus->name() + " did not come up");
    std::size_t sent = 0, failed = 0;
    bool stop = false;
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) { stop = !ec; });
    const double t0 = lines.empty() ? 0 : lines.front().t;
    const Time start = clock.now();
    for (const LogLine& l : lines) {
      const Time at = start + from_seconds((l.t - t0) / o.speed);
      auto due = std::make_shared<bool>(false);  // the timer may outlive this iteration (a stop)
      const TimerId t = clock.call_at(at, [due] { *due = true; }, true);
      while (!*due && !stop) clock.run_one();
      if (stop) {
        clock.cancel(t);
        break;
      }
      if (bus->send(l.frame)) ++sent;
      else ++failed;
    }
    // Let the last frames go out.
    const Time end = clock.now() + std::chrono::milliseconds(200);
    bool done = false;
    clock.call_at(end, [&] { done = true; });
    while (!done) clock.run_one();
    std::cout << "zhil can replay: " << sent << " frames sent to " << bus->name() << (failed ? ", " + std::to_string(failed) + " refused" : "")
              << (stop ? " (stopped)" : "") << std::endl;
    bus->close();
    return failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "zhil can replay: " << e.what() << "\n";
    return 2;
  }
}

int run_can_serve(const std::string& socketcand, const std::vector<std::string>& buses) {
  try {
    boost::asio::io_context io;
    RealTimeClock clock(io);
    const auto colon = socketcand.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("--socketcand HOST:PORT, e.g. 127.0.0.1:29536");
    can::SocketcandServer server(buses, socketcand.substr(0, colon), std::stoi(socketcand.substr(colon + 1)));
    server.start(clock);
    std::string names;
    for (const auto& b : buses) names += (names.empty() ? "" : ", ") + b;
    std::cout << "zhil can serve: virtual bus " << names << " serving socketcand on " << socketcand.substr(0, colon) << ":" << server.port()
              << std::endl;
    run_until_signal(clock, "zhil can serve");
    server.stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "zhil can serve: " << e.what() << "\n";
    return 2;
  }
}

int run_can_decode(const std::string& log, const std::string& dbc_path) {
  try {
    const can::Dbc dbc = can::load_dbc(dbc_path);
    const std::vector<LogLine> lines = read_log(log);
    std::uint64_t unknown = 0, errors = 0;
    std::cout << "time,bus,id,message,signal,value,unit\n";
    for (const LogLine& l : lines) {
      const can::DbcMessage* m = dbc.find(l.frame.id, l.frame.extended);
      if (!m || l.frame.error || l.frame.remote) {
        ++unknown;
        continue;
      }
      for (const can::DbcSignal& s : m->signals) {
        can::SignalValue v;
        if (auto st = can::decode_signal(*m, s, l.frame, &v); !st) {
          ++errors;
          std::cerr << log << ": " << st.message() << "\n";
          continue;
        }
        if (!v.present) continue;
        char b[256];
        std::snprintf(b, sizeof b, "%.6f,%s,0x%03X,%s,%s,%.10g,%s\n", l.t, l.bus.c_str(), l.frame.id, m->name.c_str(), s.name.c_str(),
                      v.value, s.unit.c_str());
        std::cout << b;
      }
    }
    if (unknown) std::cerr << "zhil can decode: " << unknown << " frames of ids not in " << dbc_path << "\n";
    return errors ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "zhil can decode: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace zhil::lab
