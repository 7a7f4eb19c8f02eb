#pragma once
// Plays a scenario's timeline into the signal table: at each cycle, the events now due set their
// stimulus signals or install profiles, and every installed profile writes its signal.
#include <cstdint>
#include <memory>
#include <vector>

#include "harness/scenario/scenario.hpp"
#include "harness/signal_table.hpp"

namespace zhil {

struct StationConfig;

class Timeline {
 public:
  // Resolves every event's target signal against the station and the table. Throws
  // std::runtime_error naming the event's file:line when a device or signal does not exist, or is
  // not a stimulus (a real device that cannot have a fault injected, say).
  Timeline(const Scenario& scenario, const StationConfig& station, const SignalTable& signals);
  void apply(Time now, SignalTable& signals);
  std::size_t events_fired() const { return next_; }

 private:
  struct Step {
    SignalId signal;
    double value;
  };
  struct Source {
    SignalId signal;
    ProfileFactory factory;
  };
  struct Event {
    Time at;
    std::vector<Step> steps;
    std::vector<Source> sources;
  };
  struct Active {
    SignalId signal;
    Time since;
    std::unique_ptr<Profile> profile;
  };
  std::vector<Event> events_;
  std::vector<Active> active_;
  std::size_t next_ = 0;
  std::uint64_t seed_;
  double tod0_;
};

}  // namespace zhil
