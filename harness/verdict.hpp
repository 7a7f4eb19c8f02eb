#pragma once
// OpenHTF-style outcomes. A run's verdict: PASS, FAIL (the device under test failed a check or a
// measurement), ERROR (the bench failed: a device, a script, an exception), ABORTED (stopped by the
// operator or a signal). A script must be able to tell a failing pack from a failing bench.
namespace zhil {

enum class Verdict { pass, fail, error, aborted };

inline const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::pass: return "PASS";
    case Verdict::fail: return "FAIL";
    case Verdict::error: return "ERROR";
    case Verdict::aborted: return "ABORTED";
  }
  return "?";
}

// Exit codes of `zhil run`: 0 PASS, 1 FAIL, 2 ERROR or ABORTED.
inline int exit_code(Verdict v) { return v == Verdict::pass ? 0 : v == Verdict::fail ? 1 : 2; }

}  // namespace zhil
