#include "harness/recording/signal_selection.hpp"

#include <stdexcept>

namespace zhil {

// Written here rather than taken from fnmatch(3): fnmatch has no `**`, and with FNM_PATHNAME its
// separator is '/', not the '.' of signal names.
bool glob_match(std::string_view p, std::string_view n) {
  std::size_t pi = 0, ni = 0;
  // Backtracking points for the last `*` (within a segment) and the last `**` (across).
  std::size_t star_p = std::string_view::npos, star_n = 0;
  std::size_t dstar_p = std::string_view::npos, dstar_n = 0;
  while (ni < n.size()) {
    if (pi + 1 < p.size() && p[pi] == '*' && p[pi + 1] == '*') {
      dstar_p = pi += 2;
      dstar_n = ni;
      star_p = std::string_view::npos;
      continue;
    }
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_n = ni;
      continue;
    }
    if (pi < p.size() && (p[pi] == n[ni] || (p[pi] == '?' && n[ni] != '.'))) {
      ++pi;
      ++ni;
      continue;
    }
    if (star_p != std::string_view::npos && n[star_n] != '.') {
      pi = star_p;
      ni = ++star_n;
      continue;
    }
    if (dstar_p != std::string_view::npos) {
      pi = dstar_p;
      ni = ++dstar_n;
      star_p = std::string_view::npos;
      continue;
    }
    return false;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::vector<SignalId> select_signals(const SignalTable& signals, const std::vector<RecordPattern>& patterns) {
  std::vector<SignalId> ids;
  if (patterns.empty()) {
    for (SignalId id = 0; id < signals.size(); ++id) ids.push_back(id);
    return ids;
  }
  std::vector<bool> used(patterns.size(), false);
  for (SignalId id = 0; id < signals.size(); ++id) {
    bool any = false;
    for (std::size_t k = 0; k < patterns.size(); ++k)
      if (glob_match(patterns[k].glob, signals.info(id).name)) any = used[k] = true;
    if (any) ids.push_back(id);
  }
  for (std::size_t k = 0; k < patterns.size(); ++k)
    if (!used[k])
      throw std::runtime_error(patterns[k].where + ": record pattern '" + patterns[k].glob +
                               "' matches no signal of this station");
  return ids;
}

}  // namespace zhil
