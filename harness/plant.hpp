#pragma once
// The physics behind simulated devices: everything that evolves on its own between cycles (pack
// chemistry, inverter ramps, grid and load). A hardware bench has no Plant, the physics is real.
// The cycle loop advances it to the cycle's time before acquiring measurements.
#include "harness/checkpoint/state_archive_fwd.hpp"
#include "harness/status.hpp"
#include "harness/time.hpp"

namespace zhil {

class Plant {
 public:
  virtual ~Plant() = default;
  virtual Status advance_to(Time now) = 0;
  // Checkpoints (resumable runs): a plant that can save every bit of its state and take it back,
  // so that a resumed simulation continues exactly where it stopped. One that cannot makes a
  // simulated run on it unresumable (refused when checkpoints are asked for).
  virtual bool checkpointable() const { return false; }
  virtual void save_state(StateWriter&) const {}
  virtual void load_state(StateReader&) {}
};

}  // namespace zhil
