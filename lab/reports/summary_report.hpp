#pragma once
// Reports across runs. suite_report_html: a suite's report.html beside its report.md (each
// scenario's verdict against what the suite expects, what failed, a link to its run report).
// zhil report --db ... [--station S] [--product P] [--since DATE] [--out FILE]: from the results
// store, pass rate by station and product over time (a chart per day) and the failing checks and
// measurements ranked by how many runs they failed.
#include <string>

#include <nlohmann/json.hpp>

namespace zhil::lab {

std::string suite_report_html(const nlohmann::ordered_json& suite_summary, const std::string& suite_name);

struct SummaryReportRequest {
  std::string db;
  std::string station, product, since;
  std::string out;  // empty: zhil-report.html here
};
// Exit 0 written, 1 no run matched, 2 an error.
int run_summary_report(const SummaryReportRequest& request);

}  // namespace zhil::lab
