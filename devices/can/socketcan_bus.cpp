#include "devices/can/socketcan_bus.hpp"

#include <errno.h>
#include <libsocketcan.h>
#include <linux/can.h>
#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstring>

#include "harness/clock.hpp"

namespace zhil::can {

namespace {
Status failed(const std::string& interface, const char* call, int err) {
  return Status::error(interface + ": " + call + " failed: " + std::strerror(err));
}
// libsocketcan returns -1 without errno for "no such link data" (a vcan has no CAN link info).
Status socketcan_call(const std::string& interface, const char* call, int rc) {
  if (rc == 0) return Status::ok();
  const int err = errno;
  if (err == 0 || err == ENOENT || err == EOPNOTSUPP || err == ENODATA)
    return Status::error(interface + ": " + call + " failed: no CAN link data (a virtual interface such as vcan has none)");
  return failed(interface, call, err);
}
}  // namespace

Status socketcan_set_bitrate(const std::string& i, std::uint32_t bitrate) {
  errno = 0;
  return socketcan_call(i, "can_set_bitrate", can_set_bitrate(i.c_str(), bitrate));
}
Status socketcan_start(const std::string& i) {
  errno = 0;
  return socketcan_call(i, "can_do_start", can_do_start(i.c_str()));
}
Status socketcan_stop(const std::string& i) {
  errno = 0;
  return socketcan_call(i, "can_do_stop", can_do_stop(i.c_str()));
}
Status socketcan_restart(const std::string& i) {
  errno = 0;
  return socketcan_call(i, "can_do_restart", can_do_restart(i.c_str()));
}
Status socketcan_state(const std::string& i, BusState* state) {
  int s = -1;
  errno = 0;
  if (auto st = socketcan_call(i, "can_get_state", can_get_state(i.c_str(), &s)); !st) return st;
  switch (s) {
    case CAN_STATE_ERROR_ACTIVE: *state = BusState::active; break;
    case CAN_STATE_ERROR_WARNING: *state = BusState::warning; break;
    case CAN_STATE_ERROR_PASSIVE: *state = BusState::passive; break;
    case CAN_STATE_BUS_OFF: *state = BusState::bus_off; break;
    default: *state = BusState::closed; break;
  }
  return Status::ok();
}

struct SocketCanBus::Impl {
  explicit Impl(boost::asio::io_context& io) : fd(io) {}
  boost::asio::posix::stream_descriptor fd;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

SocketCanBus::SocketCanBus(SocketCanEndpoint endpoint) : ep_(std::move(endpoint)) {}

SocketCanBus::~SocketCanBus() { close(); }

Status SocketCanBus::open(Clock& clock) {
  close();
  clock_ = &clock;
  if (ep_.interface.empty() || ep_.interface.size() >= IFNAMSIZ) return Status::error("bad CAN interface name '" + ep_.interface + "'");
  if (ep_.bitrate > 0) {
    // The bitrate can only be set while the interface is down.
    (void)socketcan_stop(ep_.interface);
    if (auto s = socketcan_set_bitrate(ep_.interface, ep_.bitrate); !s) return s;
    if (auto s = socketcan_start(ep_.interface); !s) return s;
  }
  const int s = ::socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
  if (s < 0) return failed(ep_.interface, "socket(PF_CAN, SOCK_RAW, CAN_RAW) (does this kernel have SocketCAN?)", errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ep_.interface.c_str(), IFNAMSIZ - 1);
  if (::ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
    const int err = errno;
    ::close(s);
    return failed(ep_.interface, "SIOCGIFINDEX (no such interface?)", err);
  }
  // Every error class reported as an error frame (bus-off among them).
  const can_err_mask_t err_mask = CAN_ERR_MASK;
  (void)::setsockopt(s, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &err_mask, sizeof err_mask);
  if (!filters_.empty()) {
    std::vector<can_filter> f;
    for (const CanFilter& x : filters_)
      f.push_back({x.id | (x.extended ? CAN_EFF_FLAG : 0u), x.mask | CAN_EFF_FLAG | CAN_RTR_FLAG});
    if (::setsockopt(s, SOL_CAN_RAW, CAN_RAW_FILTER, f.data(), static_cast<socklen_t>(f.size() * sizeof(can_filter))) < 0) {
      const int err = errno;
      ::close(s);
      return failed(ep_.interface, "setsockopt(CAN_RAW_FILTER)", err);
    }
  }
  sockaddr_can addr{};
  addr.can_family = AF_CAN;
  addr.can_ifindex = ifr.ifr_ifindex;
  if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    const int err = errno;
    ::close(s);
    return failed(ep_.interface, "bind", err);
  }
  impl_ = std::make_shared<Impl>(clock.io());
  impl_->fd.assign(s);
  state_ = BusState::active;
  log_attach();
  on_readable();
  return Status::ok();
}

void SocketCanBus::close() {
  if (clock_ && restart_timer_) clock_->cancel(restart_timer_);
  restart_timer_ = 0;
  if (impl_) {
    log_detach();
    *impl_->alive = false;
    boost::system::error_code ignored;
    impl_->fd.close(ignored);
    impl_.reset();
  }
  state_ = BusState::closed;
}

void SocketCanBus::on_readable() {
  auto impl = impl_;
  auto alive = impl->alive;
  impl->fd.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this, impl, alive](const boost::system::error_code& ec) {
    if (!*alive || ec) return;
    // Everything queued now, one frame per read (SOCK_RAW), without blocking.
    for (int n = 0; n < 1024; ++n) {
      can_frame k{};
      const ssize_t got = ::read(impl->fd.native_handle(), &k, sizeof k);
      if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        last_error_ = ep_.interface + ": read failed: " + std::strerror(errno);
        ++counters_.errors;
        break;
      }
      if (got != static_cast<ssize_t>(sizeof k) || k.len > 8) {
        ++counters_.errors;  // a CAN FD frame or a short read: not carried
        continue;
      }
      CanFrame f;
      f.error = (k.can_id & CAN_ERR_FLAG) != 0;
      f.extended = (k.can_id & CAN_EFF_FLAG) != 0;
      f.remote = (k.can_id & CAN_RTR_FLAG) != 0;
      f.id = k.can_id & (f.error ? CAN_ERR_MASK : f.extended ? CAN_EFF_MASK : CAN_SFF_MASK);
      f.len = k.len;
      std::memcpy(f.data.data(), k.data, 8);
      if (f.error) handle_error_frame(f.id);
      deliver(f, clock_->now());
      if (!*alive) return;
    }
    on_readable();
  });
}

void SocketCanBus::handle_error_frame(std::uint32_t err_class) {
  ++counters_.errors;
  if (err_class & CAN_ERR_BUSOFF) {
    ++counters_.bus_off;
    state_ = BusState::bus_off;
    last_error_ = ep_.interface + ": bus-off";
    schedule_restart();
  } else if (err_class & CAN_ERR_RESTARTED) {
    state_ = BusState::active;
    restart_wait_ = Duration{0};
  } else if (err_class & CAN_ERR_CRTL) {
    if (state_ == BusState::active) state_ = BusState::warning;
  }
}

void SocketCanBus::schedule_restart() {
  if (restart_timer_ || !clock_) return;
  restart_wait_ = restart_wait_ == Duration{0} ? Duration{0} : std::min(ep_.restart_max, restart_wait_ * 2);
  const Duration wait = restart_wait_;
  restart_wait_ = std::max(restart_wait_, ep_.restart_min);
  restart_timer_ = clock_->call_after(wait, [this] {
    restart_timer_ = 0;
    if (state_ != BusState::bus_off) return;
    ++counters_.restarts;
    if (auto s = socketcan_restart(ep_.interface); !s) {
      last_error_ = s.message();
      schedule_restart();
      return;
    }
    BusState now = BusState::active;
    if (socketcan_state(ep_.interface, &now) && now == BusState::bus_off) {
      schedule_restart();
      return;
    }
    state_ = BusState::active;
  });
}

Status SocketCanBus::send(const CanFrame& frame) {
  if (!impl_) return Status::error("bus " + ep_.interface + " is not open");
  if (state_ == BusState::bus_off) return Status::error("bus " + ep_.interface + " is bus-off");
  if (frame.len > 8) return Status::error("bus " + ep_.interface + ": a frame of " + std::to_string(frame.len) + " bytes");
  can_frame k{};
  k.can_id = frame.id | (frame.extended ? CAN_EFF_FLAG : 0u) | (frame.remote ? CAN_RTR_FLAG : 0u);
  k.len = frame.len;
  std::memcpy(k.data, frame.data.data(), 8);
  const ssize_t n = ::write(impl_->fd.native_handle(), &k, sizeof k);
  if (n != static_cast<ssize_t>(sizeof k)) {
    const int err = errno;
    if (err == ENOBUFS || err == EAGAIN) ++counters_.dropped;  // the interface's queue is full
    return failed(ep_.interface, "write", err);
  }
  ++counters_.tx;
  if (logs_own_traffic_) log_tx(frame, clock_->now());
  return Status::ok();
}

}  // namespace zhil::can
