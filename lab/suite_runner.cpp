#include "lab/suite_runner.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness/config/config_node.hpp"
#include "lab/scenario_runner.hpp"

namespace zhil::lab {
namespace fs = std::filesystem;

namespace {
struct Entry {
  std::string file;
  std::string expect = "PASS";
  std::string why;
};
}  // namespace

int run_suite(const SuiteRequest& rq) {
  std::vector<Entry> entries;
  std::string suite_name;
  try {
    ConfigNode root = ConfigNode::load_file(rq.suite_file);
    root.expect_keys({"suite", "description", "scenarios"});
    suite_name = root.require("suite").as_string();
    const fs::path dir = fs::path(rq.suite_file).parent_path();
    for (const ConfigNode& e : root.require("scenarios").items()) {
      e.expect_keys({"file", "expect", "why"});
      Entry en;
      en.file = (dir / e.require("file").as_string()).lexically_normal().string();
      en.expect = e.get_string("expect", "PASS");
      if (en.expect != "PASS" && en.expect != "FAIL") e["expect"].fail("expect is PASS or FAIL");
      en.why = e.get_string("why", "");
      if (!fs::exists(en.file)) e["file"].fail("no scenario file " + en.file);
      entries.push_back(en);
    }
  } catch (const std::exception& e) {
    std::cerr << "zhil suite: " << e.what() << "\n";
    return 2;
  }
  const std::string out = rq.out_dir.empty() ? "results/suite-" + utc_stamp() : rq.out_dir;
  fs::create_directories(out);
  std::cout << "suite " << suite_name << ": " << entries.size() << " scenarios, results in " << out << "\n";

  nlohmann::ordered_json summary;
  summary["suite"] = suite_name;
  summary["file"] = rq.suite_file;
  summary["scenarios"] = nlohmann::ordered_json::array();
  std::ostringstream md, junit;
  md << "# zhil suite report: " << suite_name << "\n\n| scenario | verdict | expected | checks failed | record |\n"
     << "|---|---|---|---|---|\n";
  int worst = 0;
  std::size_t n = 0, unexpected = 0;
  for (const Entry& en : entries) {
    ++n;
    const std::string stem = fs::path(en.file).stem().string();
    ScenarioRunRequest r;
    r.scenario_file = en.file;
    r.station_file = rq.station_file;
    r.seed = rq.seed;
    r.out_dir = out + "/" + stem;
    r.show_progress = rq.show_progress;
    const auto t0 = std::chrono::steady_clock::now();
    ScenarioRunOutcome o = run_scenario(r);
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
    std::printf("  [%zu/%zu] %-8s %-34s %s  (%.1f s)  %s/record.json\n", n, entries.size(), verdict.c_str(),
                stem.c_str(), as_expected ? (en.expect == "FAIL" ? "expected FAIL" : "ok") : "UNEXPECTED", wall,
                r.out_dir.c_str());
    if (!o.message.empty() && o.verdict != Verdict::pass) std::printf("           %s\n", o.message.c_str());
    std::fflush(stdout);
    md << "| " << stem << " | " << verdict << " | " << en.expect << " | " << (failed.empty() ? "-" : failed) << " | "
       << stem << "/record.json |\n";
    summary["scenarios"].push_back({{"file", en.file}, {"scenario", o.scenario_name}, {"verdict", verdict},
                                    {"expected", en.expect}, {"as_expected", as_expected}, {"failed", failed},
                                    {"error", o.message}, {"record", r.out_dir + "/record.json"}, {"wall_s", wall}});
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
  std::ofstream(out + "/suite.json") << summary.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  std::ofstream(out + "/report.md") << md.str();
  std::ofstream(out + "/junit.xml") << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"" << suite_name
                                    << "\" tests=\"" << entries.size() << "\" failures=\"" << unexpected << "\">\n"
                                    << junit.str() << "</testsuite>\n";
  std::cout << "suite verdict: " << verdict << "\nreport: " << out << "/report.md\n";
  return worst;
}

}  // namespace zhil::lab
