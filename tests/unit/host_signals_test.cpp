// zhil's signal capture (harness/host_signals): signals go to the run while it listens, to the
// host's own handler while paused or once the capture is gone, with nothing lost in between.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <vector>

#include "harness/host_signals.hpp"

namespace {

std::atomic<int> g_host_calls{0};
void host_handler(int) { g_host_calls.fetch_add(1); }

struct HostHandler {
  struct sigaction old{};
  HostHandler() {
    struct sigaction a{};
    a.sa_handler = host_handler;
    a.sa_flags = 0;  // no SA_RESTART, as Python installs its handlers
    sigemptyset(&a.sa_mask);
    sigaction(SIGUSR1, &a, &old);
    g_host_calls = 0;
  }
  ~HostHandler() { sigaction(SIGUSR1, &old, nullptr); }
};

}  // namespace

TEST(HostSignals, ARunTakesSignalsWhileItListensAndTheHostBetween) {
  HostHandler host;
  boost::asio::io_context io;
  std::vector<int> caught;
  {
    zhil::HostSignalCapture capture(io, [&](int sig) { caught.push_back(sig); });
    struct sigaction now{};
    sigaction(SIGUSR1, nullptr, &now);
    EXPECT_TRUE(now.sa_flags & SA_SIGINFO);
    EXPECT_FALSE(now.sa_flags & SA_RESTART);  // the host's restart choice is kept
    raise(SIGUSR1);
    io.poll();
    EXPECT_EQ(caught, std::vector<int>{SIGUSR1});
    EXPECT_EQ(g_host_calls, 0);
    // Paused: the host's own handler, as if zhil were not there.
    capture.set_paused(true);
    raise(SIGUSR1);
    EXPECT_EQ(g_host_calls, 1);
    EXPECT_EQ(caught.size(), 1u);
    // A signal the loop has not read yet is handed over when the capture pauses.
    capture.set_paused(false);
    raise(SIGUSR1);
    capture.set_paused(true);
    EXPECT_EQ(caught.size(), 2u);
    io.poll();
    EXPECT_EQ(caught.size(), 2u);  // and not twice
  }
  // Gone: the host's handler is back exactly.
  struct sigaction after{};
  sigaction(SIGUSR1, nullptr, &after);
  EXPECT_EQ(after.sa_handler, host_handler);
  raise(SIGUSR1);
  EXPECT_EQ(g_host_calls, 2);
}

TEST(HostSignals, TheNewestListeningCaptureGetsTheSignalAndEndingOutOfOrderRestoresTheHost) {
  HostHandler host;
  boost::asio::io_context io;
  int first = 0, second = 0;
  auto a = std::make_unique<zhil::HostSignalCapture>(io, [&](int) { ++first; });
  auto b = std::make_unique<zhil::HostSignalCapture>(io, [&](int) { ++second; });
  raise(SIGUSR1);
  io.poll();
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
  b->set_paused(true);
  raise(SIGUSR1);
  io.poll();
  EXPECT_EQ(first, 1);
  a.reset();  // the older one ends first
  raise(SIGUSR1);  // b is paused: the host's
  EXPECT_EQ(g_host_calls, 1);
  b->set_paused(false);
  raise(SIGUSR1);
  io.poll();
  EXPECT_EQ(second, 2);
  b.reset();
  struct sigaction after{};
  sigaction(SIGUSR1, nullptr, &after);
  EXPECT_EQ(after.sa_handler, host_handler);
}

std::atomic<int> g_other_calls{0};
void other_handler(int) { g_other_calls.fetch_add(1); }

TEST(HostSignals, AHandlerTheHostSetsDuringARunIsKeptAndTheRunStillListens) {
  HostHandler host;
  boost::asio::io_context io;
  int caught = 0;
  {
    zhil::HostSignalCapture capture(io, [&](int) { ++caught; });
    capture.set_paused(true);
    signal(SIGUSR1, other_handler);  // the host (Python's signal.signal) changes its handler between calls
    capture.set_paused(false);       // the run takes signals again, and the host's new handler is remembered
    raise(SIGUSR1);
    io.poll();
    EXPECT_EQ(caught, 1);
    capture.set_paused(true);
    raise(SIGUSR1);
    EXPECT_EQ(g_other_calls, 1);
    EXPECT_EQ(g_host_calls, 0);
  }
  struct sigaction after{};
  sigaction(SIGUSR1, nullptr, &after);
  EXPECT_EQ(after.sa_handler, other_handler);  // the host's latest, not the one from before the run
}
