#include "harness/host_signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
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

// What the handler reads, lock-free: per capture slot, the pipe to write into (as fd + 1; 0: free)
// and whether it is paused; per signal, the host's disposition from before the first capture.
// Changed only under `g_mutex`, from outside the handler.
constexpr int kSlots = 8;
std::atomic<int> g_fd[kSlots];
std::atomic<bool> g_paused[kSlots];
struct sigaction g_host[_NSIG];
bool g_installed[_NSIG];
int g_live = 0;
std::mutex g_mutex;

extern "C" void zhil_on_signal(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  for (int k = kSlots - 1; k >= 0; --k) {
    const int fd = g_fd[k].load(std::memory_order_acquire) - 1;
    if (fd < 0 || g_paused[k].load(std::memory_order_acquire)) continue;
    const unsigned char b = static_cast<unsigned char>(sig);
    (void)!write(fd, &b, 1);  // non-blocking: a full pipe already holds a stop
    errno = saved_errno;
    return;
  }
  // No run is listening: the host's own disposition, as if zhil were not there.
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
  errno = saved_errno;
}

}  // namespace

struct HostSignalCapture::Reader : std::enable_shared_from_this<Reader> {
  Reader(boost::asio::io_context& io, int fd) : pipe(io, fd) {}
  boost::asio::posix::stream_descriptor pipe;
  std::function<void(int)> on_signal;
  std::array<unsigned char, 64> buffer{};
  void read() {
    auto self = shared_from_this();
    pipe.async_read_some(boost::asio::buffer(buffer), [self](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;
      for (std::size_t i = 0; i < n; ++i) self->on_signal(self->buffer[i]);
      self->read();  // a second signal is taken too (and ignored by a run already stopping)
    });
  }
};

HostSignalCapture::HostSignalCapture(boost::asio::io_context& io, std::function<void(int)> on_signal) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::runtime_error(std::string("signal capture: pipe: ") + std::strerror(errno));
  std::lock_guard lock(g_mutex);
  // The newest capture must be in the highest slot: take the first free slot above every used one.
  slot_ = -1;
  for (int k = kSlots - 1; k >= 0 && g_fd[k].load() == 0; --k) slot_ = k;
  if (slot_ < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error("signal capture: more than 8 runs catching signals at once");
  }
  reader_ = std::make_shared<Reader>(io, fds[0]);
  reader_->on_signal = std::move(on_signal);
  g_paused[slot_].store(false);
  g_fd[slot_].store(fds[1] + 1, std::memory_order_release);
  if (g_live++ == 0) {
    for (int sig : terminating_signals()) {
      struct sigaction old{};
      g_installed[sig] = false;
      if (sigaction(sig, nullptr, &old) != 0) continue;
      if (old.sa_handler == SIG_IGN && !(old.sa_flags & SA_SIGINFO)) continue;  // nohup: stays ignored
      g_host[sig] = old;
      struct sigaction ours{};
      ours.sa_sigaction = zhil_on_signal;
      ours.sa_flags = SA_SIGINFO | SA_RESTART;
      sigfillset(&ours.sa_mask);  // nothing interrupts the handler (it may run the host's)
      if (sigaction(sig, &ours, nullptr) == 0) g_installed[sig] = true;
    }
  }
  reader_->read();
}

HostSignalCapture::~HostSignalCapture() {
  std::lock_guard lock(g_mutex);
  if (--g_live == 0)
    for (int sig : terminating_signals())
      if (g_installed[sig]) {
        sigaction(sig, &g_host[sig], nullptr);
        g_installed[sig] = false;
      }
  const int w = g_fd[slot_].exchange(0) - 1;
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
    g_paused[slot_].store(false, std::memory_order_release);
  }
}

void HostSignalCapture::deliver_pending() {
  unsigned char b[64];
  for (;;) {
    const ssize_t n = ::read(reader_->pipe.native_handle(), b, sizeof b);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) reader_->on_signal(b[i]);
  }
}

}  // namespace zhil
