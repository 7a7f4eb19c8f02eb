#pragma once
// The standalone servers (`zhil sim`, `zhil can serve`) run their loop until SIGINT or SIGTERM,
// then say which and return, so that the caller stops what it serves and exits 0.
#include <iostream>
#include <string>

#include <boost/asio/signal_set.hpp>

#include "harness/clock.hpp"

namespace zhil::lab {

inline void run_until_signal(Clock& clock, const std::string& who) {
  bool stop = false;
  boost::asio::signal_set signals(clock.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) {
      std::cout << who << ": " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping" << std::endl;
      stop = true;
    }
  });
  while (!stop) clock.run_one();
}

}  // namespace zhil::lab
