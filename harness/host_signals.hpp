#pragma once
// Every catchable signal whose default action ends the process is caught into the run's
// io_context for as long as this object lives, then the host's own dispositions are put back. A
// signal stops the run (ABORTED) after the safe state is commanded and verified and the record
// written; a second signal during the safe state or while the record is written waits and cuts
// neither short.
//
// The handler is zhil's own (sigaction), writing the signal's number into a pipe that the loop
// reads; Boost's signal_set is not used because it resets a signal to its default action before a
// host's handler can be put back, and in that gap a signal to another thread of the host (Python
// has several) would kill the process with the bench live. Installing and restoring here swap one
// disposition for the other, with no gap.
//
// A capture can be paused (Python between calls): a signal then goes to the host's own handler as
// if zhil were not there (Python's raises KeyboardInterrupt; the default action ends the process;
// an ignored signal stays ignored). Pausing delivers what came in while the loop was not reading.
// Several captures may live at once (two runs in one Python process): a signal goes to the newest
// one not paused, else to the host.
//
// Not caught: SIGKILL and SIGSTOP (cannot be), the synchronous faults (SIGSEGV, SIGBUS, SIGFPE,
// SIGILL, SIGTRAP, SIGSYS: the process state is not trustworthy after them), SIGPIPE and SIGXFSZ
// (a host ignores them, so a closed pipe or a file-size limit is a failed write, checked where it
// happens), and the job-control and informational ones (SIGCHLD, SIGCONT, SIGTSTP, SIGTTIN,
// SIGTTOU, SIGURG, SIGWINCH) whose default does not end the process. A signal the host ignores
// (nohup's SIGHUP) stays ignored.
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

// A signal given to the host's own disposition (as if no capture were there, whatever other run
// listens): for a host that re-raises, once the bench is safe, a signal a run caught.
void send_to_host(int sig);

class HostSignalCapture {
 public:
  // Throws std::runtime_error if no pipe can be made, or more than 8 captures live at once.
  HostSignalCapture(boost::asio::io_context& io, std::function<void(int)> on_signal);
  ~HostSignalCapture();
  HostSignalCapture(const HostSignalCapture&) = delete;
  HostSignalCapture& operator=(const HostSignalCapture&) = delete;

  // Paused: signals go to the host's handlers. Pausing first hands on_signal what already came.
  void set_paused(bool paused);
  // on_signal for every signal caught but not yet read by the loop (on the caller's thread).
  void deliver_pending();

 private:
  struct Reader;
  std::shared_ptr<Reader> reader_;
  int slot_ = -1;
};

}  // namespace zhil
