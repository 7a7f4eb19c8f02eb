#include "lab/reports/run_report.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness/recording/test_record.hpp"
#include "lab/reports/report_html.hpp"

namespace zhil::lab {
namespace {

using nlohmann::json;

// Past this many rows a plot shows every n-th row (noted on the page): the browser stays quick,
// and the checks' marks are at their exact times whatever is shown.
constexpr std::size_t kMaxPlotRows = 200'000;

// The columns of timeseries.csv that the report plots, as read back from the file the run wrote.
struct SeriesTable {
  std::vector<std::string> header;  // t first
  std::vector<double> t;
  std::map<std::string, std::vector<double>> columns;  // only those asked for
  std::size_t rows = 0, stride = 1;
  std::string problem;  // why nothing could be read (shown on the page)
};

SeriesTable read_series(const std::string& path, const std::set<std::string>& wanted) {
  SeriesTable s;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    s.problem = "no time series (" + path + " cannot be read)";
    return s;
  }
  std::string line;
  if (!std::getline(in, line)) {
    s.problem = "the time series is empty";
    return s;
  }
  std::stringstream hs(line);
  for (std::string name; std::getline(hs, name, ',');) s.header.push_back(name);
  std::vector<int> slot(s.header.size(), -1);  // column -> index into `keep`
  std::vector<std::vector<double>*> keep;
  for (std::size_t k = 1; k < s.header.size(); ++k)
    if (wanted.count(s.header[k])) {
      slot[k] = static_cast<int>(keep.size());
      keep.push_back(&s.columns[s.header[k]]);
    }
  // First count the rows, to know the stride.
  const auto body = in.tellg();
  std::size_t rows = 0;
  while (std::getline(in, line))
    if (!line.empty()) ++rows;
  s.rows = rows;
  s.stride = rows > kMaxPlotRows ? (rows + kMaxPlotRows - 1) / kMaxPlotRows : 1;
  in.clear();
  in.seekg(body);
  std::size_t row = 0;
  auto number = [](std::string_view f) {
    double v = NAN;
    auto r = std::from_chars(f.data(), f.data() + f.size(), v);
    return r.ec == std::errc() && r.ptr == f.data() + f.size() ? v : NAN;
  };
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (row++ % s.stride) continue;
    std::string_view rest(line);
    for (std::size_t k = 0; k < s.header.size(); ++k) {
      const std::size_t comma = rest.find(',');
      const std::string_view field = rest.substr(0, comma);
      if (k == 0) s.t.push_back(number(field));
      else if (slot[k] >= 0) keep[static_cast<std::size_t>(slot[k])]->push_back(number(field));
      if (comma == std::string_view::npos) {
        // A short row (a cut file): the missing columns are missing values.
        for (std::size_t m = k + 1; m < s.header.size(); ++m)
          if (slot[m] >= 0) keep[static_cast<std::size_t>(slot[m])]->push_back(NAN);
        break;
      }
      rest.remove_prefix(comma + 1);
    }
  }
  return s;
}

std::string number_text(std::optional<double> v, const std::string& unit = "") {
  if (!v) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", *v);
  return unit.empty() || unit == "1" ? std::string(buf) : std::string(buf) + " " + unit;
}

std::string verdict_class(const std::string& v) {
  if (v == "PASS") return "pass";
  if (v == "FAIL") return "fail";
  if (v == "INCOMPLETE") return "incomplete";
  return "error";
}

}  // namespace

std::string run_report_html(const TestRecord& r, const Scenario* sc, const std::string& out_dir) {
  // What each plot shows: the recorded signals its check or measurement reads.
  struct Plot {
    std::string id, kind, name, verdict, reads;
    std::vector<std::string> signals, missing;
    double from = 0, until = 0;
    std::optional<double> violation;
    std::string violation_what;
    std::optional<double> low, high, marginal_low, marginal_high;  // a measurement's limits
  };
  std::vector<Plot> plots;
  const double end = r.end_s > 0 ? r.end_s : r.duration_s;
  for (std::size_t k = 0; k < r.checks.size(); ++k) {
    const CheckResult& c = r.checks[k];
    Plot p{"check-" + std::to_string(k), "check", c.name, to_string(c.outcome), c.condition, {}, {}, 0, end, {}, "", {}, {}, {}, {}};
    if (sc && k < sc->checks.size() && sc->checks[k].name == c.name) {
      const CheckSpec& spec = sc->checks[k];
      p.from = to_seconds(spec.from);
      p.until = spec.until ? to_seconds(*spec.until) : to_seconds(sc->duration);
      if (spec.kind == CheckKind::eventually || spec.kind == CheckKind::settles)
        p.until = std::min(p.until, to_seconds(spec.from + spec.within));
    }
    for (const std::string& n : signal_names_in(c.condition)) p.signals.push_back(n);
    if (c.outcome == CheckOutcome::fail && c.evidence) {
      p.violation = c.evidence->t_s;
      p.violation_what = c.evidence->what;
    }
    plots.push_back(std::move(p));
  }
  for (std::size_t k = 0; k < r.measurements.size(); ++k) {
    const MeasurementResult& m = r.measurements[k];
    if (m.signal.empty()) continue;  // a ratio of two measurements: no signal of its own
    Plot p{"measurement-" + std::to_string(k), "measurement", m.name, m.outcome, m.aggregate + " of " + m.signal,
           {m.signal}, {}, 0, end, {}, "", {}, {}, {}, {}};
    // Limits on the signal itself (max, min, final value): drawn as lines across the plot.
    if (m.aggregate == "max" || m.aggregate == "min" || m.aggregate == "final") {
      p.low = m.low;
      p.high = m.high;
      p.marginal_low = m.marginal_low;
      p.marginal_high = m.marginal_high;
    }
    if (sc)
      for (const MeasurementSpec& spec : sc->measurements)
        if (spec.name == m.name) {
          p.from = to_seconds(spec.from);
          p.until = spec.until ? to_seconds(*spec.until) : to_seconds(sc->duration);
        }
    plots.push_back(std::move(p));
  }
  std::set<std::string> wanted;
  for (const Plot& p : plots) wanted.insert(p.signals.begin(), p.signals.end());
  const std::string series_file = r.timeseries_file.empty() ? "timeseries.csv" : r.timeseries_file;
  SeriesTable table = read_series((std::filesystem::path(out_dir) / series_file).string(), wanted);
  json data;
  data["t"] = table.t;
  json cols = json::object();
  for (const auto& [name, v] : table.columns) cols[name] = v;
  data["columns"] = cols;
  json jplots = json::array();
  for (Plot& p : plots) {
    std::vector<std::string> shown;
    for (const std::string& s : p.signals) {
      if (table.columns.count(s) && std::find(shown.begin(), shown.end(), s) == shown.end()) shown.push_back(s);
      else if (!table.columns.count(s) && std::find(table.header.begin(), table.header.end(), s) == table.header.end() &&
               std::find(p.missing.begin(), p.missing.end(), s) == p.missing.end())
        p.missing.push_back(s);
    }
    // Words of an expression that are not signals (and, or, not) are not "missing" either.
    std::erase_if(p.missing, [](const std::string& s) { return s.find('.') == std::string::npos; });
    p.signals = shown;
    json j = {{"id", p.id}, {"kind", p.kind}, {"name", p.name}, {"verdict", p.verdict}, {"signals", p.signals},
              {"from", p.from}, {"until", p.until}};
    if (p.violation) j["violation"] = {{"t", *p.violation}, {"what", p.violation_what}};
    json limits = json::array();
    for (const auto& [v, kind] : {std::pair{p.low, "low"}, {p.high, "high"}, {p.marginal_low, "marginal"}, {p.marginal_high, "marginal"}})
      if (v) limits.push_back({{"value", *v}, {"kind", kind}});
    j["limits"] = limits;
    jplots.push_back(j);
  }
  data["plots"] = jplots;
  data["stride"] = table.stride;

  ReportPage page("zhil — " + r.scenario_name + " — " + std::string(to_string(r.verdict)));
  std::ostringstream& h = page.body();
  const std::string verdict = to_string(r.verdict);
  h << "<header><h1>" << esc(r.scenario_name) << " <span class=\"verdict " << verdict_class(verdict)
    << "\" id=\"verdict\">" << esc(verdict) << "</span></h1>\n";
  if (!r.error.empty()) h << "<p class=\"reason\">" << esc(r.error) << "</p>\n";
  h << "<table class=\"facts\">";
  auto fact = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) h << "<tr><th>" << esc(k) << "</th><td>" << esc(v) << "</td></tr>";
  };
  fact("run", r.run_id);
  fact("station", r.station_name + " (" + r.station_file + ")");
  fact("scenario", r.scenario_file);
  std::string duts;
  for (const auto& d : r.devices)
    if (d.role == "pack") duts += (duts.empty() ? "" : ", ") + d.name + (d.identity.empty() ? "" : ": " + d.identity);
  fact("DUT serial", r.dut_serial);
  fact("packs", duts);
  fact("started (UTC)", r.started_utc);
  fact("ran", number_text(r.end_s, "s") + " of " + number_text(r.duration_s, "s") + (r.real_time ? ", real time" : ", simulated time") +
                  ", " + std::to_string(r.cycles) + " cycles");
  fact("seed, core", std::to_string(r.seed) + ", " + r.core);
  fact("software", "zhil " + r.software_version);
  for (const auto& [k, v] : r.metadata) fact(k, v);
  if (r.resumptions > 0) fact("resumed", std::to_string(r.resumptions) + " time(s) from its checkpoints");
  h << "</table></header>\n";

  h << "<h2>Checks</h2>\n<table class=\"list\"><tr><th>verdict</th><th>check</th><th>kind</th><th>condition</th><th>evidence</th><th>defined at</th></tr>\n";
  for (const auto& c : r.checks) {
    const std::string v = to_string(c.outcome);
    h << "<tr><td class=\"verdict " << verdict_class(v) << "\">" << v << "</td><td>" << esc(c.name) << "</td><td>"
      << esc(c.kind) << "</td><td><code>" << esc(c.condition) << "</code></td><td>";
    if (c.evidence) {
      h << "t = " << number_text(c.evidence->t_s, "s") << ": " << esc(c.evidence->what);
      for (const auto& [n, val] : c.evidence->values) h << "<br><code>" << esc(n) << " = " << number_text(val) << "</code>";
    }
    h << "</td><td class=\"where\">" << esc(c.where) << "</td></tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Measurements</h2>\n<table class=\"list\"><tr><th>verdict</th><th>measurement</th><th>of</th><th>value</th><th>low</th><th>high</th><th>marginal band</th></tr>\n";
  for (const auto& m : r.measurements) {
    h << "<tr><td class=\"verdict " << verdict_class(m.outcome) << "\">" << esc(m.outcome) << (m.marginal ? " (marginal)" : "")
      << "</td><td>" << esc(m.name) << "</td><td>" << esc(m.aggregate) << " of <code>" << esc(m.signal) << "</code></td><td>"
      << number_text(m.value, m.unit) << "</td><td>" << number_text(m.low, m.unit) << "</td><td>" << number_text(m.high, m.unit)
      << "</td><td>";
    if (m.marginal_low || m.marginal_high) h << number_text(m.marginal_low, m.unit) << " – " << number_text(m.marginal_high, m.unit);
    h << "</td></tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Plots</h2>\n";
  if (!table.problem.empty()) h << "<p class=\"reason\">" << esc(table.problem) << "</p>\n";
  if (table.stride > 1)
    h << "<p class=\"note\">" << table.rows << " rows recorded: the plots show every " << table.stride
      << "th; the marks are at their exact times.</p>\n";
  h << "<p class=\"note\">Drag to zoom, double-click to zoom out; the cursor moves in step on every plot. Shaded: the "
       "window the check or measurement looks at. Red line: a check's first violation.</p>\n";
  for (const Plot& p : plots) {
    h << "<section class=\"plot-box\"><h3><span class=\"verdict " << verdict_class(p.verdict) << "\">" << esc(p.verdict)
      << "</span> " << esc(p.kind) << " " << esc(p.name) << " <small><code>" << esc(p.reads) << "</code></small></h3>";
    if (!p.missing.empty()) {
      h << "<p class=\"note\">not recorded (add to the scenario's <code>record:</code>):";
      for (const auto& s : p.missing) h << " <code>" << esc(s) << "</code>";
      h << "</p>";
    }
    h << "<div class=\"plot\" id=\"" << p.id << "\"></div></section>\n";
  }

  h << "<h2>Events</h2>\n<table class=\"list\"><tr><th>t (s)</th><th>event</th></tr>\n";
  for (const auto& e : r.events) h << "<tr><td>" << number_text(e.t_s) << "</td><td>" << esc(e.what) << "</td></tr>\n";
  if (r.events_dropped) h << "<tr><td></td><td>… " << r.events_dropped << " more, not kept</td></tr>\n";
  h << "</table>\n";

  h << "<h2>Safe state</h2>\n<table class=\"list\"><tr><th>device</th><th>commanded</th><th>verified</th><th>read back</th></tr>\n";
  for (const auto& s : r.safe_state)
    h << "<tr><td>" << esc(s.device) << "</td><td>" << (s.commanded ? "yes" : "NO") << "</td><td class=\"verdict "
      << (s.verified ? "pass\">yes" : "fail\">NO") << "</td><td>" << esc(s.detail) << "</td></tr>\n";
  h << "</table>\n";
  h << "<p class=\"note\">Safety envelope interventions: " << r.envelope_interventions << "</p>\n";
  page.add_data("zhil-data", data);
  page.add_script(kRunReportScript);
  return page.html();
}

Status RunReportSink::on_finished(TestRecord& record) {
  if (out_dir_.empty()) return Status::ok();  // the run never started: no folder
  try {
    return write_report_file(out_dir_, "report.html", run_report_html(record, scenario_, out_dir_));
  } catch (const std::exception& e) {
    return Status::error(out_dir_ + "/report.html: " + e.what());
  }
}

}  // namespace zhil::lab
