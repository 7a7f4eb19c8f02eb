#pragma once
// Best-effort tuning of the calling thread for the length of a real-time run: SCHED_FIFO when
// permitted, minimal timer slack, memory locked so page faults do not show up as jitter. Everything
// is put back as it was when the object goes (scheduling policy and priority, timer slack, and the
// memory lock unless the host had locked memory itself), so a host program that runs one real-time
// run keeps its own settings. Never fails the run; description() says what it did and could not,
// for the record.
#include <sched.h>

#include <string>

namespace zhil {

class RealTimeTuning {
 public:
  RealTimeTuning();
  ~RealTimeTuning();
  RealTimeTuning(const RealTimeTuning&) = delete;
  RealTimeTuning& operator=(const RealTimeTuning&) = delete;
  const std::string& description() const { return description_; }

 private:
  std::string description_;
  int old_policy_ = SCHED_OTHER;
  sched_param old_param_{};
  bool fifo_ = false, locked_ = false;
  unsigned long old_slack_ = 0;
};

// Memory the process has locked now (VmLck in /proc/self/status), in kB.
long locked_memory_kb();

}  // namespace zhil
