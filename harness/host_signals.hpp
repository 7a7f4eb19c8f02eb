#pragma once
// Every catchable signal whose default action ends the process is caught into the run's
// io_context for as long as this object lives, then the host's own handlers are put back. A
// signal stops the run (ABORTED) after the safe state is commanded and verified and the record
// written; a second signal during the safe state or while the record is written waits in the set
// and cuts neither short.
//
// Boost's signal_set resets a signal to its default disposition when it is destroyed: in a host
// program that had its own handler (Python's, which raises KeyboardInterrupt, or the zhil CLI's),
// a signal after the run would then kill the process. So the host's dispositions are saved and
// restored here.
//
// Not caught: SIGKILL and SIGSTOP (cannot be), the synchronous faults (SIGSEGV, SIGBUS, SIGFPE,
// SIGILL, SIGTRAP, SIGSYS: the process state is not trustworthy after them), SIGPIPE and SIGXFSZ
// (a host ignores them, so a closed pipe or a file-size limit is a failed write, checked where it
// happens), and the job-control and informational ones (SIGCHLD, SIGCONT, SIGTSTP, SIGTTIN,
// SIGTTOU, SIGURG, SIGWINCH) whose default does not end the process.
#include <signal.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace zhil {

// The signals above: SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM,
// SIGPROF, SIGIO, SIGXCPU, SIGPWR, SIGSTKFLT and the real-time signals.
const std::vector<int>& terminating_signals();
// "SIGHUP", "SIGRTMIN+3".
std::string signal_name(int sig);

class HostSignalCapture {
 public:
  HostSignalCapture(boost::asio::io_context& io, std::function<void(int)> on_signal);
  ~HostSignalCapture();
  HostSignalCapture(const HostSignalCapture&) = delete;
  HostSignalCapture& operator=(const HostSignalCapture&) = delete;

 private:
  struct Set;
  std::unique_ptr<Set> set_;
  std::vector<std::pair<int, struct sigaction>> saved_;
};

}  // namespace zhil
