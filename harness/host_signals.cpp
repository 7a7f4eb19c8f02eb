#include "harness/host_signals.hpp"

#include <pthread.h>

#include <cstring>

#include <boost/asio/signal_set.hpp>

namespace zhil {

const std::vector<int>& terminating_signals() {
  static const std::vector<int> list = [] {
    std::vector<int> v{SIGHUP,  SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
                       SIGVTALRM, SIGPROF, SIGIO, SIGXCPU, SIGPWR, SIGSTKFLT};
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) v.push_back(s);
    return v;
  }();
  return list;
}

std::string signal_name(int sig) {
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

struct HostSignalCapture::Set {
  explicit Set(boost::asio::io_context& io) : signals(io) {}
  boost::asio::signal_set signals;
  std::function<void(int)> on_signal;
  void wait() {
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      on_signal(sig);
      wait();  // a second signal is taken too (and ignored by a run already stopping)
    });
  }
};

HostSignalCapture::HostSignalCapture(boost::asio::io_context& io, std::function<void(int)> on_signal) {
  set_ = std::make_unique<Set>(io);
  for (int sig : terminating_signals()) {
    struct sigaction old{};
    if (sigaction(sig, nullptr, &old) != 0) continue;
    // A signal the host ignores (nohup sets SIGHUP to SIG_IGN) stays ignored.
    if (old.sa_handler == SIG_IGN && !(old.sa_flags & SA_SIGINFO)) continue;
    boost::system::error_code ec;
    set_->signals.add(sig, ec);
    if (!ec) saved_.emplace_back(sig, old);
  }
  set_->on_signal = std::move(on_signal);
  set_->wait();
}

HostSignalCapture::~HostSignalCapture() {
  // Boost resets each signal to its default action before the host's handler is put back: with
  // the signals blocked in between, one that comes then waits and reaches the host's handler
  // instead of killing the process.
  sigset_t block, previous;
  sigemptyset(&block);
  for (const auto& [sig, old] : saved_) sigaddset(&block, sig);
  pthread_sigmask(SIG_BLOCK, &block, &previous);
  boost::system::error_code ec;
  set_->signals.cancel(ec);
  set_->signals.clear(ec);
  set_.reset();
  for (const auto& [sig, old] : saved_) sigaction(sig, &old, nullptr);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

}  // namespace zhil
