#pragma once
// Signals the harness computes from another signal every cycle, declared by a scenario: a moving
// mean over a window, or the rate of change over a window ((x(t) - x(t - window)) / window). Samples
// live in a ring buffer sized for the window at the cycle period, so a cycle costs O(1).
#include <vector>

#include "harness/scenario/scenario.hpp"
#include "harness/signal_table.hpp"

namespace zhil {

class DerivedSignal {
 public:
  // Registers the output signal; call before the table is frozen. Throws std::runtime_error (with
  // file:line) if the input is unknown.
  DerivedSignal(const DerivedSpec& spec, SignalTable& signals, Duration cycle);
  void update(Time now, SignalTable& signals);

  template <class Archive>
  void state(Archive& a) {
    a(ring_, head_, count_, sum_);
  }

 private:
  DerivedSpec spec_;
  SignalId in_, out_;
  std::vector<double> ring_;
  std::size_t head_ = 0, count_ = 0;
  double sum_ = 0;
};

}  // namespace zhil
