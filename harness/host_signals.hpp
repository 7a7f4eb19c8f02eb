#pragma once
// SIGINT and SIGTERM caught into the run's io_context for as long as this object lives, then the
// host's own handlers put back. Boost's signal_set resets a signal to its default disposition when
// it is destroyed: in a host program that had its own handler (Python's, which raises
// KeyboardInterrupt), Ctrl-C after a run would then kill the process. A signal that comes while
// the run is finishing (safe state, record) waits in the set and does not cut them short.
#include <signal.h>

#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace zhil {

class HostSignalCapture {
 public:
  HostSignalCapture(boost::asio::io_context& io, std::function<void(int)> on_signal);
  ~HostSignalCapture();
  HostSignalCapture(const HostSignalCapture&) = delete;
  HostSignalCapture& operator=(const HostSignalCapture&) = delete;

 private:
  struct Set;
  std::unique_ptr<Set> set_;
  struct sigaction old_int_{}, old_term_{};
};

}  // namespace zhil
