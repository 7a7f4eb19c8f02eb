#pragma once
// Plays a scenario's timeline into the signal table. Each event acts at its own time (the run sets a
// timer for it: the plant advances to the event, the stimulus applies, the plant goes on), setting
// stimulus signals or installing profiles; installed profiles write their signals once a cycle.
#include <cstdint>
#include <memory>
#include <vector>

#include "harness/checkpoint/state_archive_fwd.hpp"
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
  std::size_t size() const { return events_.size(); }
  // An event a host adds while the run goes (Python's run.inject): resolved as the scenario's are
  // (same errors), appended, and its index returned for apply_event.
  std::size_t add(const TimelineEvent& event, Time at, const StationConfig& station, const SignalTable& signals);
  Time event_time(std::size_t k) const { return events_[k].at; }
  // Event k, at `now`: its steps are set and its profiles installed (their first value set). The
  // signals it set are appended to `changed`.
  void apply_event(std::size_t k, Time now, SignalTable& signals, std::vector<SignalId>& changed);
  // Every installed profile writes its signal for `now`; appended to `changed`.
  void update_profiles(Time now, SignalTable& signals, std::vector<SignalId>& changed);
  std::size_t events_fired() const { return fired_; }
  bool event_fired(std::size_t k) const { return k < done_.size() && done_[k]; }

  // A checkpoint's part: which events have acted, and the profiles installed, each rebuilt on load
  // from its event and the context it started with and brought to the instant it was last asked
  // for (profiles draw their random values in time order, so that gives the same generator state).
  void save_state(StateWriter& a) const;
  void load_state(StateReader& a);

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
    std::size_t event = 0, source = 0;  // what installed it
    ProfileContext context;
    Duration asked{0};  // the last instant (since `since`) it was asked for
  };
  static Event resolve(const TimelineEvent& ev, const StationConfig& st, const SignalTable& signals);
  std::vector<Event> events_;
  std::vector<Active> active_;
  std::size_t fired_ = 0;
  std::vector<char> done_;  // by event: it has acted
  std::uint64_t seed_;
  double tod0_;
};

}  // namespace zhil
