#include "lab/suite_runner.hpp"

#include "lab/reports/summary_report.hpp"

#include <chrono>
#include <filesystem>
#include <set>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness/config/config_node.hpp"
#include "harness/host_signals.hpp"
#include "harness/recording/output_folder.hpp"
#include "lab/process_signals.hpp"
#include "lab/scenario_runner.hpp"

namespace zhil::lab {
namespace fs = std::filesystem;

SuiteFile load_suite(const std::string& path) {
  SuiteFile suite;
  suite.file = path;
  ConfigNode root = ConfigNode::load_file(path);
  root.expect_keys({"suite", "description", "scenarios"});
  suite.name = root.require("suite").as_string();
  if (suite.name.empty() || suite.name.find_first_of("/\\<>&\"") != std::string::npos)
    root["suite"].fail("a suite name is a non-empty word without / \\ < > & \"");
  const fs::path dir = fs::path(path).parent_path();
  std::set<std::string> stems;
  for (const ConfigNode& e : root.require("scenarios").items()) {
    e.expect_keys({"file", "expect", "why"});
    SuiteEntry en;
    en.where = e.where();
    en.file = (dir / e.require("file").as_string()).lexically_normal().string();
    en.expect = e.get_string("expect", "PASS");
    // ERROR: a scenario whose point is that the run stops (a device lost for good: the bench is
    // made safe and the run ends in error by design).
    if (en.expect != "PASS" && en.expect != "FAIL" && en.expect != "ERROR") e["expect"].fail("expect is PASS, FAIL or ERROR");
    en.why = e.get_string("why", "");
    std::error_code ec;
    if (!fs::is_regular_file(en.file, ec)) e["file"].fail("no scenario file " + en.file);
    if (!stems.insert(fs::path(en.file).stem().string()).second)
      e["file"].fail("a second scenario named " + fs::path(en.file).stem().string() +
                     ": their result folders would collide");
    suite.entries.push_back(en);
  }
  if (suite.entries.empty()) root["scenarios"].fail("a suite needs at least one scenario");
  return suite;
}

int run_suite(const SuiteRequest& rq) {
  SuiteFile suite;
  try {
    suite = load_suite(rq.suite_file);
  } catch (const std::exception& e) {
    std::cerr << "zhil suite: " << e.what() << "\n";
    return 2;
  }
  // Every scenario is checked before any runs: a broken fifth scenario does not waste four runs.
  int invalid = 0;
  for (const SuiteEntry& en : suite.entries) {
    PrepareRequest pr;
    pr.scenario_file = en.file;
    pr.station_file = rq.station_file;
    pr.seed = rq.seed;
    pr.limits = rq.limits;
    pr.options.handle_signals = false;
    try {
      (void)prepare_run(pr);
    } catch (const std::exception& e) {
      std::cerr << "zhil suite: " << en.where << ": " << en.file << ": " << e.what() << "\n";
      ++invalid;
    }
  }
  if (invalid) {
    std::cerr << "zhil suite: " << invalid << " scenario(s) invalid; nothing ran\n";
    return 2;
  }
  if (const int sig = pending_process_signal(); sig != 0) {
    std::cerr << "zhil suite: " << signal_name(sig) << " while checking the scenarios; nothing ran\n";
    return 2;
  }
  std::shared_ptr<OutputFolder> folder;
  try {
    folder = rq.out_dir.empty() ? claim_new_folder("results/suite-" + utc_stamp())
                                : OutputFolder::claim(rq.out_dir, rq.overwrite);
  } catch (const std::exception& e) {
    std::cerr << "zhil suite: " << e.what() << "\n";
    return 2;
  }
  const std::string out = folder->path();
  const std::string suite_name = suite.name;
  const auto& entries = suite.entries;
  std::cout << "suite " << suite_name << ": " << entries.size() << " scenarios, results in " << out << "\n";

  nlohmann::ordered_json summary;
  summary["suite"] = suite_name;
  summary["file"] = rq.suite_file;
  summary["scenarios"] = nlohmann::ordered_json::array();
  std::ostringstream md, junit;
  md << "# zhil suite report: " << suite_name << "\n\n| scenario | verdict | expected | checks failed | record |\n"
     << "|---|---|---|---|---|\n";
  int worst = 0;
  bool aborted = false;
  std::size_t n = 0, unexpected = 0;
  for (const SuiteEntry& en : entries) {
    ++n;
    const std::string stem = fs::path(en.file).stem().string();
    ScenarioRunRequest r;
    r.scenario_file = en.file;
    r.station_file = rq.station_file;
    r.seed = rq.seed;
    r.out_dir = out + "/" + stem;
    r.limits = rq.limits;
    r.show_progress = rq.show_progress;
    r.results_db = rq.results_db;
    r.results_context.kind = "suite";
    r.results_context.batch = suite_name + "@" + out;
    const auto t0 = std::chrono::steady_clock::now();
    if (pending_process_signal() != 0 || aborted) {
      md << "| " << stem << " | NOT RUN | " << en.expect << " | - | - |\n";
      summary["scenarios"].push_back({{"file", en.file}, {"verdict", "NOT RUN"}, {"expected", en.expect},
                                      {"as_expected", false}, {"error", "the suite was stopped by a signal"}});
      junit << "  <testcase classname=\"zhil.suite." << suite_name << "\" name=\"" << stem
            << "\"><skipped message=\"the suite was stopped by a signal\"/></testcase>\n";
      ++unexpected;
      worst = 2;
      continue;
    }
    ScenarioRunOutcome o;
    try {
      r.output = folder->claim_subfolder(stem, false);  // the suite's folder was emptied when claimed
      o = run_scenario(r);
    } catch (const std::exception& e) {
      o.message = e.what();
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string verdict = to_string(o.verdict);
    const bool as_expected = verdict == en.expect;
    if (!as_expected) {
      ++unexpected;
      worst = std::max(worst, (o.verdict == Verdict::error || o.verdict == Verdict::aborted) ? 2 : 1);
    }
    std::string failed;
    for (const auto& c : o.result.record.checks)
      if (c.outcome == CheckOutcome::fail) failed += (failed.empty() ? "" : ", ") + c.name;
    for (const auto& m : o.result.record.measurements)
      if (m.outcome == "FAIL") failed += (failed.empty() ? "" : ", ") + m.name;
    const std::string record = o.result.record_written ? o.result.record_path : "(no record: " + o.message + ")";
    std::printf("  [%zu/%zu] %-8s %-34s %s  (%.1f s)  %s\n", n, entries.size(), verdict.c_str(),
                stem.c_str(), as_expected ? (en.expect != "PASS" ? "expected " + en.expect : std::string("ok")).c_str() : "UNEXPECTED", wall,
                record.c_str());
    if (!o.message.empty() && o.verdict != Verdict::pass) std::printf("           %s\n", o.message.c_str());
    std::fflush(stdout);
    // A signal stopped this scenario: the operator wants the suite stopped, not the next one begun.
    aborted = o.verdict == Verdict::aborted;
    md << "| " << stem << " | " << verdict << " | " << en.expect << " | " << (failed.empty() ? "-" : failed) << " | "
       << (o.result.record_written ? stem + "/record.json" : std::string("-")) << " |\n";
    summary["scenarios"].push_back({{"file", en.file}, {"scenario", o.scenario_name}, {"verdict", verdict},
                                    {"expected", en.expect}, {"as_expected", as_expected}, {"failed", failed},
                                    {"error", o.message}, {"record", o.result.record_written ? nlohmann::ordered_json(o.result.record_path) : nlohmann::ordered_json(nullptr)}, {"wall_s", wall}});
    junit << "  <testcase classname=\"zhil.suite." << suite_name << "\" name=\"" << stem << "\" time=\"" << wall << "\">";
    if (!as_expected)
      junit << "<failure message=\"verdict " << verdict << ", expected " << en.expect << "\"/>";
    junit << "</testcase>\n";
  }
  const std::string verdict = unexpected == 0 ? "PASS" : "FAIL";
  summary["verdict"] = verdict;
  md << "\nSuite verdict: **" << verdict << "** (" << entries.size() - unexpected << " of " << entries.size()
     << " scenarios gave their expected verdict).\n\nNegative examples are expected to FAIL: they show that a "
        "broken check is caught.\n";
  const std::string junit_text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"" + suite_name +
                                 "\" tests=\"" + std::to_string(entries.size()) + "\" failures=\"" +
                                 std::to_string(unexpected) + "\">\n" + junit.str() + "</testsuite>\n";
  bool written = true;
  for (const auto& [name, text] :
       {std::pair<std::string, std::string>{"suite.json", summary.dump(2, ' ', false,
                                                                       nlohmann::ordered_json::error_handler_t::replace) +
                                                              "\n"},
        {"report.md", md.str()},
        {"report.html", suite_report_html(summary, suite_name)},
        {"junit.xml", junit_text}})
    if (Status st = folder->replace(name, text); !st) {
      std::cerr << "zhil suite: " << st.message() << "\n";
      written = false;
    }
  if (!written) {
    std::cout << "suite verdict: ERROR (its report could not be written)\n";
    return 2;
  }
  std::cout << "suite verdict: " << verdict << "\nreport: " << out << "/report.md, " << out << "/report.html\n";
  return worst;
}

}  // namespace zhil::lab
