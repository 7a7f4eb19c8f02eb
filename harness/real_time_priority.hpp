#pragma once
// Best-effort tuning of the calling thread for the length of a real-time run: SCHED_FIFO when
// permitted, minimal timer slack, memory locked so page faults do not show up as jitter. Restored
// when the object goes. Never fails the run; description() says what it did and could not, for the
// record.
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

}  // namespace zhil
