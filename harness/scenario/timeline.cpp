#include "harness/scenario/timeline.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

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
    active_.push_back({s.signal, now, s.factory(ctx)});
    signals.set(s.signal, active_.back().profile->at(Duration{0}), now);
    changed.push_back(s.signal);
  }
  ++fired_;
}

void Timeline::update_profiles(Time now, SignalTable& signals, std::vector<SignalId>& changed) {
  for (Active& a : active_) {
    // An event between a cycle's instant and the end of its reads installed a profile after `now`.
    signals.set(a.signal, a.profile->at(std::max(now - a.since, Duration{0})), std::max(now, a.since));
    changed.push_back(a.signal);
  }
}

}  // namespace zhil
