#pragma once
// The live view of a running bench (zhil run --serve 127.0.0.1:PORT): a page, and a WebSocket
// (Boost.Beast) that pushes what the run does: the verdict so far, checks as they fail, and the
// values of chosen signals, plotted as they come (uPlot, inlined as in the reports).
//
// It never slows the loop. The server has a thread and an io_context of its own; the run's sink
// only formats a frame (at most every 50 ms of wall time) and hands it over. Each client has at
// most one frame being written and one waiting: a newer frame replaces the waiting one, so a slow
// or stalled browser drops frames (counted) and the run keeps its cycle.
//
// Loopback by default. Bound to any other address it requires a token (given, or made at random
// and printed with the URL): the page and the WebSocket are refused without ?token=.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/run_sink.hpp"
#include "harness/scenario/scenario.hpp"

namespace zhil::lab {

class LiveViewServer {
 public:
  // Throws std::runtime_error if the address cannot be bound. Port 0: a free one.
  LiveViewServer(const std::string& address, unsigned short port, std::string token);
  ~LiveViewServer();
  LiveViewServer(const LiveViewServer&) = delete;
  LiveViewServer& operator=(const LiveViewServer&) = delete;

  std::string url() const;  // http://address:port/ (with ?token=... when one is needed)
  unsigned short port() const;
  void set_page(std::string html);
  // Any thread: the newest frame, to every client (and to each new one first).
  void publish(std::string frame);
  // The frame every client gets first, whenever it connects (the signals' names), and now.
  void publish_hello(std::string frame);
  std::uint64_t frames_dropped() const;
  std::uint64_t clients() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "ADDRESS:PORT" ("127.0.0.1:8080", "[::1]:0"; port 0: a free one) served; std::runtime_error
// saying what is wrong with it otherwise.
std::shared_ptr<LiveViewServer> serve_live_view(const std::string& address_port, const std::string& token);

class LiveViewSink final : public RunSink {
 public:
  // `signals`: the signals to plot (empty: those the scenario's checks read, up to eight).
  LiveViewSink(std::shared_ptr<LiveViewServer> server, const Scenario* scenario, std::vector<std::string> signals);
  Status on_started(const RunInfo& info, const SignalTable& signals) override;
  Status on_row(Time t, const SignalTable& signals) override;
  void on_check(Time t, const CheckResult& c) override;
  Status on_finished(TestRecord& record) override;

 private:
  std::shared_ptr<LiveViewServer> server_;
  const Scenario* scenario_;
  std::vector<std::string> names_;
  std::vector<SignalId> ids_;
  std::vector<std::string> failed_;  // checks failed so far
  std::int64_t last_push_ns_ = 0;
  std::uint64_t frames_ = 0;
};

}  // namespace zhil::lab
