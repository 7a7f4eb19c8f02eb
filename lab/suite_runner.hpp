#pragma once
// `zhil suite`: runs every scenario a suite file lists on its station, checks each verdict against
// what the suite expects (a negative example is expected to FAIL), and writes a report: report.md
// (for people), suite.json (for tools) and junit.xml (for CI), beside one folder per scenario.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lab/run_preparation.hpp"

namespace zhil::lab {

struct SuiteEntry {
  std::string file;  // the scenario, relative to the working directory
  std::string expect = "PASS";
  std::string why;
  std::string where;  // file:line:column of the entry
};

struct SuiteFile {
  std::string name;
  std::string file;
  std::vector<SuiteEntry> entries;
};

// Throws ConfigError (file:line:column): unknown keys, a missing or non-regular scenario file, a
// scenario listed twice (their result folders would collide).
SuiteFile load_suite(const std::string& path);

struct SuiteRequest {
  std::string suite_file;
  std::string out_dir;
  bool overwrite = false;
  ResourceLimits limits;
  std::string station_file;  // optional override for every scenario
  std::optional<std::uint64_t> seed;
  bool show_progress = false;
  std::string results_db;  // every scenario's run goes into this results store; empty: none
};

// Exit code: 0 when every scenario gave its expected verdict, 1 when one did not, 2 when the
// suite itself could not run or a scenario gave ERROR/ABORTED unexpectedly.
int run_suite(const SuiteRequest& request);

}  // namespace zhil::lab
