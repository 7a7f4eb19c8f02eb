#pragma once
// A socketcand-compatible server exposing virtual buses of this process over TCP (loopback unless
// configured otherwise), so that external tools join a bus: Debian's python3-can (interface
// socketcand), or anything speaking linux-can's socketcand raw mode, sniffs every frame on the bus
// and injects its own. One Asio acceptor on the run's loop, one session per client, no thread.
//
// Per session: "< hi >"; "< open BUS >" (a bus this server serves) -> "< ok >", else "< error ... >";
// "< rawmode >" -> "< ok >", then every frame on the bus goes to the client as "< frame ... >" and
// every "< send ... >" from it goes onto the bus. Malformed input is answered "< error ... >" and
// counted; the session lives on. A client that does not read loses frames (counted), never the bus.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/status.hpp"

namespace boost::asio {
class io_context;
}
namespace zhil {
class Clock;
}

namespace zhil::can {

class VirtualCanHub;

struct SocketcandServerCounters {
  std::uint64_t sessions = 0, frames_out = 0, frames_in = 0, malformed = 0, dropped = 0;
};

class SocketcandServer {
 public:
  // Binds at once (port 0: any free port; see port()). Throws std::runtime_error naming the address.
  // hub_of: the virtual bus a client's `open` joins (a station's bench's own); default, the
  // process's bus of that name.
  using HubOf = std::function<std::shared_ptr<VirtualCanHub>(const std::string& bus)>;
  SocketcandServer(std::vector<std::string> buses, const std::string& address, int port, HubOf hub_of = nullptr);
  ~SocketcandServer();
  SocketcandServer(const SocketcandServer&) = delete;
  SocketcandServer& operator=(const SocketcandServer&) = delete;
  int port() const;
  // Starts accepting on the clock's loop; frames carry the clock's time (wall time in real time).
  void start(Clock& clock);
  void stop();
  const SocketcandServerCounters& counters() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace zhil::can
