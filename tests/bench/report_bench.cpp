// The run report's cost, measured (not a test): size and time to write report.html for the 24 h
// one-pack run (86,400 rows at 1 s), and the time from navigation until every plot is drawn in
// headless Chromium (Debian's chromium, as the tests use it). Figures are quoted in the README.
//   build/bin/zhil_report_bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "lab/reports/run_report.hpp"
#include "lab/run_preparation.hpp"

using namespace zhil;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  namespace fs = std::filesystem;
  const std::string dir = fs::absolute("bench-report").string();
  fs::remove_all(dir);
  lab::PrepareRequest pr;
  pr.scenario_file = std::string(ZHIL_SOURCE_DIR) + "/scenarios/peak-shaving-24h-1pack.yaml";
  pr.options.out_dir = dir;
  pr.options.handle_signals = false;
  auto prepared = lab::prepare_run(pr);
  const RunResult r = prepared->run->run_to_end();
  std::printf("run: %s, %llu rows in timeseries.csv (%.1f MB)\n", to_string(r.verdict),
              static_cast<unsigned long long>(r.record.timeseries_rows),
              static_cast<double>(fs::file_size(dir + "/timeseries.csv")) / 1e6);
  std::vector<double> ms;
  std::string html;
  for (int k = 0; k < 5; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    html = lab::run_report_html(r.record, &prepared->scenario, dir);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::ofstream(dir + "/report.html", std::ios::binary) << html;
  std::printf("report.html: %.2f MB, written in %.0f ms (median of 5)\n", static_cast<double>(html.size()) / 1e6,
              median(ms));
  std::vector<double> paint;
  for (int k = 0; k < 3; ++k) {
    const std::string cmd = "chromium --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir=" + dir +
                            "/profile --dump-dom file://" + dir + "/report.html 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) break;
    std::string dom;
    char buf[65536];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) dom.append(buf, n);
    if (pclose(p) != 0) break;
    std::smatch m;
    if (std::regex_search(dom, m, std::regex("data-drawn-ms=\"([0-9]+)\""))) paint.push_back(std::stod(m[1]));
  }
  if (paint.empty()) std::printf("headless Chromium: not measured (no chromium, or the page did not draw)\n");
  else std::printf("headless Chromium: every plot drawn %.0f ms after navigation (median of %zu)\n", median(paint), paint.size());
  return 0;
}
