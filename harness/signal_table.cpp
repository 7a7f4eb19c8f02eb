#include "harness/signal_table.hpp"

#include "harness/checkpoint/state_archive.hpp"

#include <algorithm>

namespace zhil {

const char* to_string(Quality q) {
  switch (q) {
    case Quality::good: return "good";
    case Quality::stale: return "stale";
    case Quality::fault: return "fault";
  }
  return "?";
}

const char* to_string(SignalKind k) {
  switch (k) {
    case SignalKind::measurement: return "measurement";
    case SignalKind::command: return "command";
    case SignalKind::applied: return "applied command";
    case SignalKind::limit: return "limit";
    case SignalKind::stimulus: return "stimulus";
  }
  return "?";
}

Status SignalTable::add(const std::string& name, const std::string& unit, SignalKind kind,
                        const std::string& owner, SignalId* id, double initial) {
  if (auto it = index_.find(name); it != index_.end()) {
    const SignalInfo& existing = info_[it->second];
    if (existing.unit != unit || existing.kind != kind)
      return Status::error("signal '" + name + "' registered by " + owner + " as " +
                           to_string(kind) + " [" + unit + "] but " + existing.owner +
                           " registered it as " + to_string(existing.kind) + " [" +
                           existing.unit + "]");
    if (kind == SignalKind::measurement)
      return Status::error("signal '" + name + "' is published by both " + existing.owner +
                           " and " + owner);
    *id = it->second;
    return Status::ok();
  }
  if (frozen_) return Status::error("signal '" + name + "' added after the table was frozen");
  if (name.empty()) return Status::error("empty signal name from " + owner);
  const auto new_id = static_cast<SignalId>(values_.size());
  if (!run_of_.empty()) run_of_.push_back(kNoRun);
  values_.push_back(initial);
  stamps_.push_back(Time{0});
  quality_.push_back(Quality::stale);  // nothing has been read yet
  info_.push_back(SignalInfo{name, unit, kind, owner, Range{}});
  index_.emplace(name, new_id);
  *id = new_id;
  return Status::ok();
}

std::uint32_t SignalTable::add_run(SignalId first, std::size_t count) {
  if (run_of_.size() < values_.size()) run_of_.resize(values_.size(), kNoRun);
  const auto r = static_cast<std::uint32_t>(runs_.size());
  runs_.push_back({first, count});
  run_stamps_.push_back(Time{0});
  run_all_good_.push_back(0);
  for (std::size_t k = 0; k < count; ++k) run_of_[first + k] = r;
  return r;
}

void SignalTable::stamp_run(std::uint32_t run, Time t, const Quality* q) {
  run_stamps_[run] = t;
  if (!q) return;
  // Publishing marks the run good; the fill is skipped while nothing has marked any of it otherwise
  // (a device's measurements are good cycle after cycle).
  if (*q == Quality::good && run_all_good_[run]) return;
  std::fill_n(quality_.begin() + runs_[run].first, runs_[run].count, *q);
  run_all_good_[run] = *q == Quality::good;
}

void SignalTable::link_applied(SignalId requested, SignalId applied) {
  if (applied_.size() < values_.size()) applied_.resize(values_.size(), kNoSignal);
  applied_[requested] = applied;
}

SignalId SignalTable::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? kNoSignal : it->second;
}

void SignalTable::save_state(StateWriter& a) const {
  state_section(a, "signals");
  a(static_cast<std::uint64_t>(values_.size()), values_, stamps_, quality_, run_stamps_, run_all_good_);
}

void SignalTable::load_state(StateReader& a) {
  state_section(a, "signals");
  std::uint64_t n = 0;
  a(n);
  if (n != values_.size())
    throw CheckpointError("checkpoint: the run has " + std::to_string(values_.size()) + " signals; the checkpoint has " +
                          std::to_string(n));
  const std::size_t runs = run_stamps_.size();
  a(values_, stamps_, quality_, run_stamps_, run_all_good_);
  if (stamps_.size() != n || quality_.size() != n || run_stamps_.size() != runs || run_all_good_.size() != runs)
    throw CheckpointError("checkpoint: its signal table does not fit this run's");
}

}  // namespace zhil
