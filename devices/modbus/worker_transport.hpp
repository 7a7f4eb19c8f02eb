#pragma once
// libmodbus on a worker thread (see modbus_transport.hpp): the worker owns its modbus_t and makes
// the blocking calls; results are posted back to the loop. Used for RTU, where libmodbus does the
// serial line (CRC, inter-frame timing), and for TCP when compared with the loop's own transport.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "devices/modbus/modbus_transport.hpp"

namespace zhil::modbus {

class WorkerTransport final : public Transport {
 public:
  WorkerTransport(Endpoint endpoint, TransportTiming timing, std::shared_ptr<LockStep> lock_step = nullptr);
  ~WorkerTransport() override;
  void release_loop() override;

 protected:
  void send(std::uint64_t id, int attempt, const Request& r, Clock& clock) override;
  void interrupt() override;

 private:
  struct WorkerReply {
    std::uint64_t id = 0;
    int attempt = 0;
    Result result;
  };
  void worker_main();
  Result perform(const Request& r, int* local_port);
  bool connect_locked(Failure* failure, int* local_port);

  std::mutex mutex_;
  std::condition_variable wake_;
  boost::asio::io_context* io_ = nullptr;  // of the last request's clock
  std::deque<std::pair<std::uint64_t, std::pair<int, Request>>> work_;  // (job id, (attempt, request))
  bool stopping_ = false;
  bool port_acked_ = false;
  bool reset_connection_ = false;  // the loop gave up on the request in flight: reconnect
  int socket_fd_ = -1;             // the worker's connection, for the loop to shut down
  std::thread worker_;
  void* ctx_ = nullptr;  // modbus_t, worker thread only
};

}  // namespace zhil::modbus
