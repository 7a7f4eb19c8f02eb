#pragma once
// Time functions that drive a stimulus signal every cycle (load profiles, frequency ramps). A
// profile is evaluated at increasing times only, which lets random swing periods be drawn in order
// from the scenario's seed, so the same seed gives the same profile.
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "harness/config/config_node.hpp"
#include "harness/time.hpp"

namespace zhil {

class Profile {
 public:
  virtual ~Profile() = default;
  // since: time since the event that installed the profile; tod0: time of day (s) at run start
  virtual double at(Duration since) = 0;
};

struct ProfileContext {
  std::uint64_t seed = 0;
  double initial_value = 0;    // the signal's value when the profile starts (ramps start there)
  double start_time_of_day_s = 0;  // time of day when the profile starts
};

// Parses a profile description at load time (all errors then, with file:line), and builds the
// profile when the event fires.
using ProfileFactory = std::function<std::unique_ptr<Profile>(const ProfileContext&)>;

// `node` is a load or grid event's mapping; `unit` the stimulus unit ("W", "Hz", "1").
// Recognised: {ramp: {to, over}}, {profile: constant|diurnal|ai_training|csv, ...}.
// Files it reads (CSV traces) are appended to `files_read`, for the record's list of inputs.
// Every value the profile can take must lie in `range` (a load >= 0, a frequency 40-70 Hz): constants,
// ramp targets, diurnal bounds, the AI-training peak and trough, and every point of a CSV trace
// after scaling; refused at the file and line that sets it.
struct PhysicalRange {
  double lo = -1e300, hi = 1e300;
};
ProfileFactory parse_profile(const ConfigNode& node, const std::string& unit, const std::string& base_dir,
                             std::vector<std::string>* files_read = nullptr, PhysicalRange range = {});

// The AI-training load shape, exposed for tests: trapezoid swings between level*(1-swing) and
// level*(1+swing), period drawn uniformly from [period_min, period_max], duty, edge ramp; plus
// periodic checkpoint dips and job start/stop steps.
struct AiTrainingShape {
  double level_w = 1e6;
  double swing = 0.4;
  double period_min_s = 1.0, period_max_s = 1.0;
  double duty = 0.5;
  double ramp_s = 0.1;
  double checkpoint_every_s = 0;  // 0: none
  double checkpoint_duration_s = 0;
  double checkpoint_level = 0.3;  // of level_w
  double idle_level = 0.2;        // of level_w, before start and after stop
  double job_start_s = 0;
  double job_stop_s = -1;         // < 0: never
  double job_ramp_s = 10;
};
std::unique_ptr<Profile> make_ai_training_profile(const AiTrainingShape& shape, std::uint64_t seed);

}  // namespace zhil
