#include "harness/host_signals.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

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

namespace {

// What the handler reads, lock-free: per capture slot, the pipe to write into (as fd + 1; 0: free),
// whether it is paused, and its sequence number (the newest unpaused capture gets a signal); per
// signal, the host's disposition. Changed only under `g_mutex`, from outside the handler, and a
// slot's pipe is closed (or g_host rewritten) only once no handler is running (`g_in_handler`), so
// a handler never writes into a descriptor that has been closed and reused.
constexpr int kSlots = 8;
std::atomic<int> g_fd[kSlots];
std::atomic<bool> g_paused[kSlots];
std::atomic<std::uint64_t> g_seq[kSlots];
std::uint64_t g_next_seq = 1;
std::atomic<int> g_in_handler{0};
std::atomic<pid_t> g_pid{0};  // the process that installed the handler (a fork's child is not a run)
struct sigaction g_host[_NSIG];
bool g_installed[_NSIG];
int g_live = 0;
std::mutex g_mutex;

// The host's own disposition for `sig`, as if zhil were not there. Async-signal-safe.
void host_disposition(int sig, siginfo_t* info, void* context) {
  const struct sigaction& host = g_host[sig];
  if (host.sa_flags & SA_SIGINFO) {
    if (host.sa_sigaction) host.sa_sigaction(sig, info, context);
  } else if (host.sa_handler == SIG_DFL) {
    // The default action (end the process): put it back and send the signal again; it is blocked
    // while this handler runs and acts as soon as it returns.
    signal(sig, SIG_DFL);
    raise(sig);
  } else if (host.sa_handler != SIG_IGN) {
    host.sa_handler(sig);
  }
}

extern "C" void zhil_on_signal(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  g_in_handler.fetch_add(1, std::memory_order_acq_rel);
  int best = -1;
  std::uint64_t best_seq = 0;
  if (getpid() == g_pid.load(std::memory_order_acquire))
    for (int k = 0; k < kSlots; ++k) {
      if (g_fd[k].load(std::memory_order_acquire) == 0 || g_paused[k].load(std::memory_order_acquire)) continue;
      const std::uint64_t s = g_seq[k].load(std::memory_order_acquire);
      if (s > best_seq) best = k, best_seq = s;
    }
  const int fd = best >= 0 ? g_fd[best].load(std::memory_order_acquire) - 1 : -1;
  if (fd >= 0) {
    const unsigned char b = static_cast<unsigned char>(sig);
    (void)!write(fd, &b, 1);  // non-blocking: a full pipe already holds a stop
  }
  g_in_handler.fetch_sub(1, std::memory_order_acq_rel);
  if (fd < 0) host_disposition(sig, info, context);  // no run is listening
  errno = saved_errno;
}

bool is_ours(const struct sigaction& a) { return (a.sa_flags & SA_SIGINFO) && a.sa_sigaction == zhil_on_signal; }

void wait_for_handlers() {
  while (g_in_handler.load(std::memory_order_acquire) > 0) sched_yield();
}

// Ours on every terminating signal the host does not ignore; a disposition the host set since
// (Python's signal.signal during a run) is taken as the host's new one. Under g_mutex.
void install_ours() {
  for (int sig : terminating_signals()) {
    struct sigaction cur{};
    if (sigaction(sig, nullptr, &cur) != 0 || is_ours(cur)) continue;
    g_installed[sig] = false;
    if (cur.sa_handler == SIG_IGN && !(cur.sa_flags & SA_SIGINFO)) continue;  // nohup: stays ignored
    wait_for_handlers();
    g_host[sig] = cur;
    struct sigaction ours{};
    ours.sa_sigaction = zhil_on_signal;
    // The host's restart and stack choices kept: Python's handlers do not restart a blocked call, so
    // Ctrl-C still breaks a script's read() between calls.
    ours.sa_flags = SA_SIGINFO | (cur.sa_flags & (SA_RESTART | SA_ONSTACK));
    sigfillset(&ours.sa_mask);  // nothing interrupts the handler (it may run the host's)
    if (sigaction(sig, &ours, nullptr) == 0) g_installed[sig] = true;
  }
}

}  // namespace

void send_to_host(int sig) {
  std::unique_lock lock(g_mutex);
  if (g_live == 0 || !g_installed[sig]) {
    lock.unlock();
    raise(sig);  // the host's disposition is in place
    return;
  }
  // Run the host's disposition here, past any other run that listens (its capture would take it).
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = SI_USER;
  const struct sigaction host = g_host[sig];
  lock.unlock();
  if (host.sa_flags & SA_SIGINFO) {
    if (host.sa_sigaction) host.sa_sigaction(sig, &info, nullptr);
  } else if (host.sa_handler == SIG_DFL) {
    signal(sig, SIG_DFL);
    raise(sig);
  } else if (host.sa_handler != SIG_IGN) {
    host.sa_handler(sig);
  }
}

struct HostSignalCapture::Reader : std::enable_shared_from_this<Reader> {
  Reader(boost::asio::io_context& io, int fd) : pipe(io, fd) {}
  boost::asio::posix::stream_descriptor pipe;
  std::function<void(int)> on_signal;
  // Bytes are read only when the loop acts on them (wait, then read), so that a signal not yet
  // acted on stays in the pipe for deliver_pending.
  void wait() {
    auto self = shared_from_this();
    pipe.async_wait(boost::asio::posix::stream_descriptor::wait_read, [self](const boost::system::error_code& ec) {
      if (ec) return;
      self->drain();
      self->wait();  // a second signal is taken too (and ignored by a run already stopping)
    });
  }
  void drain() {
    unsigned char b[64];
    for (;;) {
      const ssize_t n = ::read(pipe.native_handle(), b, sizeof b);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) on_signal(b[i]);
    }
  }
};

HostSignalCapture::HostSignalCapture(boost::asio::io_context& io, std::function<void(int)> on_signal) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::runtime_error(std::string("signal capture: pipe: ") + std::strerror(errno));
  try {
    reader_ = std::make_shared<Reader>(io, fds[0]);
  } catch (...) {
    close(fds[0]);
    close(fds[1]);
    throw;
  }
  reader_->on_signal = std::move(on_signal);
  reader_->wait();
  std::lock_guard lock(g_mutex);
  for (int k = 0; k < kSlots && slot_ < 0; ++k)
    if (g_fd[k].load() == 0) slot_ = k;
  if (slot_ < 0) {
    close(fds[1]);
    reader_.reset();
    throw std::runtime_error("signal capture: more than 8 runs catching signals at once");
  }
  g_paused[slot_].store(false);
  g_seq[slot_].store(g_next_seq++);
  g_pid.store(getpid());
  g_fd[slot_].store(fds[1] + 1, std::memory_order_release);  // published last: the slot is whole
  ++g_live;
  install_ours();
}

HostSignalCapture::~HostSignalCapture() {
  std::lock_guard lock(g_mutex);
  const int w = g_fd[slot_].exchange(0) - 1;
  if (--g_live == 0)
    for (int sig : terminating_signals()) {
      if (!g_installed[sig]) continue;
      g_installed[sig] = false;
      // Put back only over our own: a handler the host set during the run stays.
      struct sigaction cur{};
      if (sigaction(sig, nullptr, &cur) == 0 && is_ours(cur)) sigaction(sig, &g_host[sig], nullptr);
    }
  wait_for_handlers();  // none still holds the pipe's number
  close(w);
  boost::system::error_code ec;
  reader_->pipe.cancel(ec);
  reader_->pipe.close(ec);
}

void HostSignalCapture::set_paused(bool paused) {
  if (paused) {
    g_paused[slot_].store(true, std::memory_order_release);
    deliver_pending();
  } else {
    std::lock_guard lock(g_mutex);
    install_ours();  // the host may have set a handler of its own since
    g_paused[slot_].store(false, std::memory_order_release);
  }
}

void HostSignalCapture::deliver_pending() { reader_->drain(); }

}  // namespace zhil
