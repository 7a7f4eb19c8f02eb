#include "harness/host_signals.hpp"

#include <boost/asio/signal_set.hpp>

namespace zhil {

struct HostSignalCapture::Set {
  explicit Set(boost::asio::io_context& io) : signals(io, SIGINT, SIGTERM) {}
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
  sigaction(SIGINT, nullptr, &old_int_);
  sigaction(SIGTERM, nullptr, &old_term_);
  set_ = std::make_unique<Set>(io);
  set_->on_signal = std::move(on_signal);
  set_->wait();
}

HostSignalCapture::~HostSignalCapture() {
  boost::system::error_code ec;
  set_->signals.cancel(ec);
  set_->signals.clear(ec);
  set_.reset();
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

}  // namespace zhil
