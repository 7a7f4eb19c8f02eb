#pragma once
// The physics behind simulated devices: everything that evolves on its own between cycles (pack
// chemistry, inverter ramps, grid and load). A hardware bench has no Plant, the physics is real.
// The cycle loop advances it to the cycle's time before acquiring measurements.
#include "harness/status.hpp"
#include "harness/time.hpp"

namespace zhil {

class Plant {
 public:
  virtual ~Plant() = default;
  virtual Status advance_to(Time now) = 0;
};

}  // namespace zhil
