#include "lab/reports/summary_report.hpp"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "lab/reports/report_html.hpp"
#include "lab/results/results_store.hpp"

namespace zhil::lab {
namespace {

using nlohmann::json;

std::string verdict_class(const std::string& v) {
  return v == "PASS" ? "pass" : v == "FAIL" ? "fail" : v == "NOT RUN" ? "incomplete" : "error";
}

// Pass rate per day, a line per station/product: x is the day's number, its date on the axis.
constexpr std::string_view kSummaryScript = R"js(
(function () {
  const D = JSON.parse(document.getElementById('zhil-summary').textContent);
  const el = document.getElementById('pass-rate');
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  el.dataset.series = String(D.series.length);
  if (D.days.length && D.series.length) {
    const xs = D.days.map((_, i) => i);
    new uPlot({
      width: Math.max(400, el.clientWidth || 1100), height: 280,
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ label: 'day', values: (u, vals) => vals.map(v => Number.isInteger(v) && D.days[v] ? D.days[v].slice(5) : '') },
             { label: 'pass rate (%)' }],
      series: [{ label: 'day' }].concat(D.series.map((s, i) => ({ label: s.name, stroke: colors[i % colors.length], width: 2,
                                                                  points: { show: true }, spanGaps: true }))),
      hooks: { draw: [u => {
        const img = u.ctx.getImageData(0, 0, u.ctx.canvas.width, u.ctx.canvas.height).data;
        let n = 0; for (let i = 3; i < img.length; i += 4) if (img[i] > 0) n++;
        el.dataset.drawn = n > 0 ? '1' : '0';
      }] },
    }, [xs].concat(D.series.map(s => s.rate)), el);
  }
  setTimeout(() => { document.body.dataset.ready = '1'; }, 0);
})();
)js";

}  // namespace

std::string suite_report_html(const nlohmann::ordered_json& s, const std::string& suite_name) {
  const std::string verdict = s.value("verdict", "ERROR");
  ReportPage page("zhil suite — " + suite_name + " — " + verdict);
  std::ostringstream& h = page.body();
  std::size_t n = 0, ok = 0;
  for (const auto& e : s["scenarios"]) {
    ++n;
    ok += e.value("as_expected", false) ? 1 : 0;
  }
  h << "<header><h1>suite " << esc(suite_name) << " <span class=\"verdict " << verdict_class(verdict) << "\" id=\"verdict\">"
    << esc(verdict) << "</span></h1><p>" << ok << " of " << n
    << " scenarios gave their expected verdict. Negative examples are expected to FAIL: they show that a broken check "
       "is caught.</p></header>\n";
  h << "<table class=\"list\" id=\"scenarios\"><tr><th>scenario</th><th>verdict</th><th>expected</th><th></th><th>failed</th>"
       "<th>wall (s)</th><th>report</th></tr>\n";
  for (const auto& e : s["scenarios"]) {
    const std::string file = e.value("file", "");
    const std::string stem = std::filesystem::path(file).stem().string();
    const std::string v = e.value("verdict", "");
    const bool as_expected = e.value("as_expected", false);
    char wall[32] = "";
    if (e.contains("wall_s")) std::snprintf(wall, sizeof wall, "%.1f", e["wall_s"].get<double>());
    h << "<tr class=\"scenario\" data-verdict=\"" << esc(v) << "\"><td>" << esc(stem) << "</td><td class=\"verdict "
      << verdict_class(v) << "\">" << esc(v) << "</td><td>" << esc(e.value("expected", "")) << "</td><td>"
      << (as_expected ? "as expected" : "<b class=\"fail\">UNEXPECTED</b>") << "</td><td>" << esc(e.value("failed", ""));
    if (!e.value("error", std::string()).empty() && v != "PASS")
      h << "<br><span class=\"reason\">" << esc(e.value("error", "")) << "</span>";
    h << "</td><td>" << wall << "</td><td>";
    if (e.contains("record") && !e["record"].is_null()) {
      // A relative link whatever the file is called (javascript:x.yaml is a folder, not a scheme).
      std::string href = "./";
      for (unsigned char c : stem) {
        if (std::isalnum(c) || c == '.' || c == '_' || c == '-') href += static_cast<char>(c);
        else {
          char buf[4];
          std::snprintf(buf, sizeof buf, "%%%02X", c);
          href += buf;
        }
      }
      h << "<a href=\"" << esc(href) << "/report.html\">report</a>";
    }
    h << "</td></tr>\n";
  }
  h << "</table>\n";
  return page.html();
}

int run_summary_report(const SummaryReportRequest& rq) {
  namespace fs = std::filesystem;
  if (rq.db.rfind("postgres", 0) != 0 && !fs::exists(rq.db)) {
    std::cerr << "zhil report: no results store at " << rq.db << "\n";
    return 2;
  }
  json data;
  std::vector<SqlRow> groups, checks, measurements;
  std::string shown;
  try {
    auto store = ResultsStore::open(rq.db);
    shown = store->describe();
    std::string where = " WHERE 1 = 1";
    std::vector<SqlParam> params;
    auto add = [&](const std::string& column, const std::string& op, const std::string& value) {
      if (value.empty()) return;
      params.emplace_back(value);
      where += " AND " + column + " " + op + " $" + std::to_string(params.size());
    };
    add("r.station", "=", rq.station);
    add("r.product", "=", rq.product);
    add("r.started_utc", ">=", rq.since);
    groups = store->sql().query(
        "SELECT substr(r.started_utc, 1, 10) AS day, COALESCE(r.station, ''), COALESCE(r.product, ''), r.verdict, "
        "COUNT(*) FROM runs r" + where + " AND r.verdict <> 'RUNNING' GROUP BY day, r.station, r.product, r.verdict "
        "ORDER BY day",
        params);
    checks = store->sql().query(
        "SELECT c.name, COUNT(*) AS n, COUNT(DISTINCT r.station), MAX(r.started_utc) FROM checks c JOIN runs r ON "
        "r.run_id = c.run_id" + where + " AND c.outcome = 'FAIL' GROUP BY c.name ORDER BY n DESC, c.name LIMIT 25",
        params);
    measurements = store->sql().query(
        "SELECT m.name, COUNT(*) AS n, COUNT(DISTINCT r.station), MAX(r.started_utc) FROM measurements m JOIN runs r "
        "ON r.run_id = m.run_id" + where + " AND m.verdict = 'FAIL' GROUP BY m.name ORDER BY n DESC, m.name LIMIT 25",
        params);
  } catch (const std::exception& e) {
    std::cerr << "zhil report: " << e.what() << "\n";
    return 2;
  }
  if (groups.empty()) {
    std::cerr << "zhil report: no finished run matches in " << shown << "\n";
    return 1;
  }
  // Totals per station and product, and pass rates per day.
  struct Count {
    long pass = 0, fail = 0, other = 0;
    long total() const { return pass + fail + other; }
  };
  std::map<std::string, Count> totals;                       // "station / product"
  std::map<std::string, std::map<std::string, Count>> daily;  // key -> day -> counts
  std::set<std::string> days;
  for (const SqlRow& g : groups) {
    const std::string day = g[0].value_or(""), key = g[1].value_or("") + (g[2].value_or("").empty() ? "" : " / " + *g[2]);
    const std::string v = g[3].value_or("");
    const long n = std::stol(g[4].value_or("0"));
    days.insert(day);
    for (Count* c : {&totals[key], &daily[key][day]}) (v == "PASS" ? c->pass : v == "FAIL" ? c->fail : c->other) += n;
  }
  std::vector<std::string> day_list(days.begin(), days.end());
  json series = json::array();
  for (const auto& [key, per_day] : daily) {
    json rate = json::array();
    for (const std::string& d : day_list) {
      auto it = per_day.find(d);
      rate.push_back(it == per_day.end() || it->second.total() == 0 ? json(nullptr)
                                                                     : json(100.0 * it->second.pass / it->second.total()));
    }
    series.push_back({{"name", key}, {"rate", rate}});
  }
  data["days"] = day_list;
  data["series"] = series;

  ReportPage page("zhil report — " + shown);
  std::ostringstream& h = page.body();
  h << "<h1>Runs in the results store</h1><p class=\"note\">" << esc(shown)
    << (rq.station.empty() ? "" : ", station " + esc(rq.station)) << (rq.product.empty() ? "" : ", product " + esc(rq.product))
    << (rq.since.empty() ? "" : ", since " + esc(rq.since)) << "; " << esc(day_list.front()) << " to " << esc(day_list.back()) << "</p>\n";
  h << "<h2>By station and product</h2>\n<table class=\"list\" id=\"totals\"><tr><th>station / product</th><th>runs</th>"
       "<th>PASS</th><th>FAIL</th><th>ERROR, ABORTED</th><th>pass rate</th></tr>\n";
  for (const auto& [key, c] : totals) {
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f %%", c.total() ? 100.0 * c.pass / c.total() : 0.0);
    h << "<tr class=\"total\"><td>" << esc(key) << "</td><td>" << c.total() << "</td><td>" << c.pass << "</td><td>" << c.fail
      << "</td><td>" << c.other << "</td><td>" << rate << "</td></tr>\n";
  }
  h << "</table>\n<h2>Pass rate per day</h2>\n<div class=\"plot\" id=\"pass-rate\"></div>\n";
  auto ranked = [&](const char* title, const char* id, const std::vector<SqlRow>& rows) {
    h << "<h2>" << title << "</h2>\n<table class=\"list\" id=\"" << id << "\"><tr><th>#</th><th>name</th><th>runs failed</th>"
      << "<th>stations</th><th>last failed (UTC)</th></tr>\n";
    int k = 0;
    for (const SqlRow& r : rows)
      h << "<tr class=\"ranked\"><td>" << ++k << "</td><td>" << esc(r[0].value_or("")) << "</td><td>" << esc(r[1].value_or(""))
        << "</td><td>" << esc(r[2].value_or("")) << "</td><td>" << esc(r[3].value_or("")) << "</td></tr>\n";
    if (rows.empty()) h << "<tr><td></td><td>none</td></tr>\n";
    h << "</table>\n";
  };
  ranked("Failing checks, ranked", "failing-checks", checks);
  ranked("Failing measurements, ranked", "failing-measurements", measurements);
  page.add_data("zhil-summary", data);
  page.add_script(kSummaryScript);
  const fs::path out = fs::absolute(rq.out.empty() ? "zhil-report.html" : rq.out);
  if (Status st = write_report_file(out.parent_path().string(), out.filename().string(), page.html()); !st) {
    std::cerr << "zhil report: " << st.message() << "\n";
    return 2;
  }
  for (const auto& [key, c] : totals)
    std::printf("%-40s %6ld runs  %5.1f %% pass\n", key.c_str(), c.total(), c.total() ? 100.0 * c.pass / c.total() : 0.0);
  std::printf("report: %s\n", out.string().c_str());
  return 0;
}

}  // namespace zhil::lab
