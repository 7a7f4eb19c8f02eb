#include "harness/real_time_priority.hpp"

#include <sys/mman.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace zhil {

long locked_memory_kb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmLck:") {
      long kb = 0;
      status >> kb;
      return kb;
    }
    status.ignore(4096, '\n');
  }
  return 0;
}

RealTimeTuning::RealTimeTuning() {
  old_policy_ = sched_getscheduler(0);
  sched_getparam(0, &old_param_);
  sched_param sp{};
  sp.sched_priority = 50;
  fifo_ = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
  description_ = fifo_ ? "SCHED_FIFO 50" : std::string("no SCHED_FIFO (") + std::strerror(errno) + ")";
  const int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  old_slack_ = slack > 0 ? static_cast<unsigned long>(slack) : 50000UL;
  if (prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) == 0) description_ += ", timer slack 1 ns";
  if (locked_memory_kb() > 0) {
    description_ += ", memory already locked by the host";
  } else {
    locked_ = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
    description_ += locked_ ? ", memory locked" : std::string(", memory not locked (") + std::strerror(errno) + ")";
  }
}

RealTimeTuning::~RealTimeTuning() {
  if (fifo_) sched_setscheduler(0, old_policy_, &old_param_);
  prctl(PR_SET_TIMERSLACK, old_slack_, 0, 0, 0);
  if (locked_) munlockall();
}

}  // namespace zhil
