#include "harness/scenario/timeline.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "harness/checkpoint/state_archive.hpp"
#include "harness/config/station_config.hpp"

namespace zhil {
namespace {

std::string device_for(const std::string& device, const std::string& role, const StationConfig& st,
                       const std::string& where) {
  if (!device.empty()) {
    if (!st.find(device)) throw std::runtime_error(where + ": station " + st.name + " has no device '" + device + "'");
    return device;
  }
  auto candidates = st.with_role(role);
  if (candidates.size() != 1)
    throw std::runtime_error(where + ": station " + st.name + " has " + std::to_string(candidates.size()) + " " +
                             role + " devices; name one with 'device:'");
  return candidates.front()->name;
}

SignalId stimulus(const SignalTable& t, const std::string& name, const std::string& where) {
  SignalId id = t.find(name);
  if (id == kNoSignal)
    throw std::runtime_error(where + ": no signal '" + name + "' on this station (the device does not offer it; "
                             "fault injection needs a simulator)");
  if (t.info(id).kind != SignalKind::stimulus)
    throw std::runtime_error(where + ": signal '" + name + "' is a " + to_string(t.info(id).kind) +
                             ", not a stimulus a scenario may set");
  return id;
}

// Splitmix64: a well-mixed per-event seed from the scenario seed, so that adding an event does
// not change the random draws of the others.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

Timeline::Event Timeline::resolve(const TimelineEvent& ev, const StationConfig& st, const SignalTable& signals) {
  Event e{ev.at, {}, {}};
  for (const StimulusStep& s : ev.steps) {
    std::string dev = device_for(s.device, s.role, st, ev.where);
    e.steps.push_back({stimulus(signals, dev + "." + s.suffix, ev.where), s.value});
  }
  for (const StimulusSource& s : ev.sources) {
    std::string dev = device_for(s.device, s.role, st, ev.where);
    e.sources.push_back({stimulus(signals, dev + "." + s.suffix, ev.where), s.factory});
  }
  if (!ev.clear_faults_of.empty()) {
    std::string prefix = device_for(ev.clear_faults_of, "", st, ev.where) + ".fault.";
    for (SignalId id = 0; id < signals.size(); ++id)
      if (signals.info(id).name.rfind(prefix, 0) == 0 && signals.info(id).kind == SignalKind::stimulus)
        e.steps.push_back({id, 0.0});
  }
  return e;
}

Timeline::Timeline(const Scenario& sc, const StationConfig& st, const SignalTable& signals)
    : seed_(sc.seed), tod0_(sc.start_time_of_day_s) {
  for (const TimelineEvent& ev : sc.timeline) events_.push_back(resolve(ev, st, signals));
}

std::size_t Timeline::add(const TimelineEvent& event, Time at, const StationConfig& station, const SignalTable& signals) {
  Event e = resolve(event, station, signals);
  e.at = at;
  events_.push_back(std::move(e));
  return events_.size() - 1;
}

void Timeline::apply_event(std::size_t k, Time now, SignalTable& signals, std::vector<SignalId>& changed) {
  Event& e = events_[k];
  for (const Step& s : e.steps) {
    std::erase_if(active_, [&](const Active& a) { return a.signal == s.signal; });
    signals.set(s.signal, s.value, now);
    changed.push_back(s.signal);
  }
  for (const Source& s : e.sources) {
    std::erase_if(active_, [&](const Active& a) { return a.signal == s.signal; });
    ProfileContext ctx{mix(seed_ ^ mix(k)), signals.value(s.signal), std::fmod(tod0_ + to_seconds(e.at), 86400.0)};
    active_.push_back({s.signal, now, s.factory(ctx), k, static_cast<std::size_t>(&s - e.sources.data()), ctx, Duration{0}});
    signals.set(s.signal, active_.back().profile->at(Duration{0}), now);
    changed.push_back(s.signal);
  }
  ++fired_;
  if (done_.size() < events_.size()) done_.resize(events_.size(), 0);
  done_[k] = 1;
}

void Timeline::update_profiles(Time now, SignalTable& signals, std::vector<SignalId>& changed) {
  for (Active& a : active_) {
    // An event between a cycle's instant and the end of its reads installed a profile after `now`.
    a.asked = std::max(now - a.since, Duration{0});
    signals.set(a.signal, a.profile->at(a.asked), std::max(now, a.since));
    changed.push_back(a.signal);
  }
}

void Timeline::save_state(StateWriter& a) const {
  state_section(a, "timeline");
  std::vector<char> done = done_;
  done.resize(events_.size(), 0);
  a(static_cast<std::uint64_t>(fired_), done, static_cast<std::uint64_t>(active_.size()));
  for (const Active& x : active_)
    a(x.signal, x.since, static_cast<std::uint64_t>(x.event), static_cast<std::uint64_t>(x.source), x.context.seed,
      x.context.initial_value, x.context.start_time_of_day_s, x.asked);
}

void Timeline::load_state(StateReader& a) {
  state_section(a, "timeline");
  std::uint64_t fired = 0, active = 0;
  a(fired, done_, active);
  if (done_.size() != events_.size())
    throw CheckpointError("checkpoint: the scenario has " + std::to_string(events_.size()) +
                          " timeline events; the checkpoint has " + std::to_string(done_.size()));
  fired_ = fired;
  active_.clear();
  for (std::uint64_t n = 0; n < active; ++n) {
    Active x;
    std::uint64_t event = 0, source = 0;
    a(x.signal, x.since, event, source, x.context.seed, x.context.initial_value, x.context.start_time_of_day_s, x.asked);
    if (event >= events_.size() || source >= events_[event].sources.size() ||
        events_[event].sources[source].signal != x.signal)
      throw CheckpointError("checkpoint: a profile it had installed is not in this scenario's timeline");
    x.event = event;
    x.source = source;
    x.profile = events_[event].sources[source].factory(x.context);
    (void)x.profile->at(Duration{0});
    (void)x.profile->at(x.asked);
    active_.push_back(std::move(x));
  }
}

}  // namespace zhil
