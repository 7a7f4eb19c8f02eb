#include "lab/process_signals.hpp"

#include <signal.h>

#include <atomic>

#include "harness/host_signals.hpp"

namespace zhil::lab {
namespace {

std::atomic<int> g_first_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

void remember(int sig) {
  int none = 0;
  g_first_signal.compare_exchange_strong(none, sig);
}

}  // namespace

void ignore_pipe_signals() {
  struct sigaction ignore{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
  sigaction(SIGXFSZ, &ignore, nullptr);
}

void install_process_signal_handling() {
  ignore_pipe_signals();
  struct sigaction catch_it{};
  catch_it.sa_handler = remember;
  sigemptyset(&catch_it.sa_mask);
  catch_it.sa_flags = SA_RESTART;
  for (int sig : terminating_signals()) {
    struct sigaction old{};
    // nohup's SIG_IGN for SIGHUP is the user's choice: keep it.
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(sig, &catch_it, nullptr);
  }
}

int pending_process_signal() { return g_first_signal.load(); }

}  // namespace zhil::lab
