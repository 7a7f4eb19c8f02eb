#pragma once
// `zhil suite`: runs every scenario a suite file lists on its station, checks each verdict against
// what the suite expects (a negative example is expected to FAIL), and writes a report: report.md
// (for people), suite.json (for tools) and junit.xml (for CI), beside one folder per scenario.
#include <cstdint>
#include <optional>
#include <string>

namespace zhil::lab {

struct SuiteRequest {
  std::string suite_file;
  std::string out_dir;
  std::string station_file;  // optional override for every scenario
  std::optional<std::uint64_t> seed;
  bool show_progress = false;
};

// Exit code: 0 when every scenario gave its expected verdict, 1 when one did not, 2 when the
// suite itself could not run or a scenario gave ERROR/ABORTED unexpectedly.
int run_suite(const SuiteRequest& request);

}  // namespace zhil::lab
