#include "lab/reports/spc_command.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "lab/reports/report_html.hpp"
#include "lab/reports/spc.hpp"
#include "lab/results/results_store.hpp"

namespace zhil::lab {
namespace {

using nlohmann::json;

struct Point {
  std::string run_id, started, name, serial;
  double value = 0;
};

struct StationSeries {
  std::vector<Point> points;
  std::optional<double> low, high;  // the newest run's limits
  std::string unit;
};

std::optional<double> opt(const std::optional<std::string>& s) {
  if (!s || s->empty()) return std::nullopt;
  return std::stod(*s);
}

std::string fmt(std::optional<double> v, int digits = 4) {
  if (!v || !std::isfinite(*v)) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, *v);
  return buf;
}

json num(std::optional<double> v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }

// The charts' script: per station an individuals chart (values, centre, control limits, spec
// limits, points where a rule fires in red) and an X-bar chart; each chart element says what it drew.
constexpr std::string_view kSpcScript = R"js(
(function () {
  const D = JSON.parse(document.getElementById('zhil-spc').textContent);
  let drawn = 0, charts = 0;
  const line = (u, y, color, dash) => {
    if (y === null || y === undefined) return;
    const py = u.valToPos(y, 'y', true);
    if (py < u.bbox.top || py > u.bbox.top + u.bbox.height) return;
    u.ctx.save(); u.ctx.strokeStyle = color; u.ctx.lineWidth = devicePixelRatio;
    u.ctx.setLineDash(dash ? [6 * devicePixelRatio, 4 * devicePixelRatio] : []);
    u.ctx.beginPath(); u.ctx.moveTo(u.bbox.left, py); u.ctx.lineTo(u.bbox.left + u.bbox.width, py); u.ctx.stroke();
    u.ctx.restore();
  };
  const ink = u => {
    const img = u.ctx.getImageData(0, 0, u.ctx.canvas.width, u.ctx.canvas.height).data;
    let n = 0; for (let i = 3; i < img.length; i += 4) if (img[i] > 0) n++;
    const el = u.root.parentNode;
    if (n > 0 && el.dataset.drawn !== '1') { drawn++; document.body.dataset.drawn = String(drawn); }
    el.dataset.drawn = n > 0 ? '1' : '0';
  };
  const chart = (id, xs, ys, lines, flagged) => {
    const el = document.getElementById(id);
    if (!el || !xs.length) return;
    charts++;
    el.dataset.points = String(xs.length);
    el.dataset.flagged = String(flagged.length);
    const range = (u, lo, hi) => {
      for (const l of lines) if (l.y !== null && l.y !== undefined) { lo = Math.min(lo, l.y); hi = Math.max(hi, l.y); }
      const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1; return [lo - pad, hi + pad];
    };
    const marks = u => {
      for (const l of lines) line(u, l.y, l.color, l.dash);
      u.ctx.save(); u.ctx.fillStyle = '#d00';
      for (const i of flagged) {
        const px = u.valToPos(xs[i], 'x', true), py = u.valToPos(ys[i], 'y', true);
        u.ctx.beginPath(); u.ctx.arc(px, py, 5 * devicePixelRatio, 0, 2 * Math.PI); u.ctx.fill();
      }
      u.ctx.restore();
    };
    new uPlot({
      width: Math.max(400, el.clientWidth || 1100), height: 240,
      scales: { x: { time: false }, y: { range } },
      series: [{ label: 'run #' }, { label: D.measurement + (D.unit ? ' (' + D.unit + ')' : ''), stroke: '#1f77b4', width: 1,
                 points: { show: true, size: 5 } }],
      axes: [{ label: 'run # (oldest first)' }, { size: 64 }],
      hooks: { draw: [marks, ink] },
    }, [xs, ys], el);
  };
  for (const s of D.stations) {
    const xs = s.values.map((_, i) => i + 1);
    chart(s.id + '-i', xs, s.values, [
      { y: s.centre, color: '#2ca02c' }, { y: s.ucl, color: '#d00', dash: true }, { y: s.lcl, color: '#d00', dash: true },
      { y: s.low, color: '#e69500' }, { y: s.high, color: '#e69500' }], s.flagged);
    if (s.xbar && s.xbar.means.length)
      chart(s.id + '-x', s.xbar.means.map((_, i) => i + 1), s.xbar.means, [
        { y: s.xbar.centre, color: '#2ca02c' }, { y: s.xbar.ucl, color: '#d00', dash: true },
        { y: s.xbar.lcl, color: '#d00', dash: true }], []);
  }
  document.body.dataset.charts = String(charts);
  setTimeout(() => { document.body.dataset.ready = '1'; }, 0);
})();
)js";

}  // namespace

int run_spc(const SpcRequest& rq) {
  std::map<std::string, StationSeries> by_station;
  std::string shown;
  try {
    namespace fs = std::filesystem;
    if (rq.db.rfind("postgres", 0) != 0 && !fs::exists(rq.db)) {
      std::cerr << "zhil spc: no results store at " << rq.db << "\n";
      return 2;
    }
    auto store = ResultsStore::open(rq.db);
    shown = store->describe();
    std::string sql =
        "SELECT r.station, r.started_utc, r.run_id, m.name, m.dut_serial, m.value, m.low, m.high, m.unit FROM "
        "measurements m JOIN runs r ON r.run_id = m.run_id WHERE (m.name = $1 OR m.name LIKE $2 ESCAPE '!') AND m.value "
        "IS NOT NULL";
    // The base name taken literally by LIKE (its % and _ escaped).
    std::string like = "%.";
    for (char c : rq.measurement) {
      if (c == '%' || c == '_' || c == '!') like += '!';
      like += c;
    }
    std::vector<SqlParam> params{rq.measurement, like};
    if (!rq.product.empty()) {
      params.emplace_back(rq.product);
      sql += " AND r.product = $" + std::to_string(params.size());
    }
    if (!rq.station.empty()) {
      params.emplace_back(rq.station);
      sql += " AND r.station = $" + std::to_string(params.size());
    }
    sql += " ORDER BY r.started_utc, r.run_id, m.name";
    for (const SqlRow& row : store->sql().query(sql, params)) {
      const std::string name = row[3].value_or("");
      // LIKE's _ matches any character: keep the exact base name only.
      if (name != rq.measurement && !(name.size() > rq.measurement.size() &&
                                      name.compare(name.size() - rq.measurement.size() - 1, std::string::npos,
                                                   "." + rq.measurement) == 0))
        continue;
      StationSeries& s = by_station[row[0].value_or("")];
      s.points.push_back({row[2].value_or(""), row[1].value_or(""), name, row[4].value_or(""), std::stod(*row[5])});
      s.low = opt(row[6]);
      s.high = opt(row[7]);
      s.unit = row[8].value_or("");
    }
  } catch (const std::exception& e) {
    std::cerr << "zhil spc: " << e.what() << "\n";
    return 2;
  }
  if (by_station.empty()) {
    std::cerr << "zhil spc: no values of measurement " << rq.measurement << " in " << shown << "\n";
    return 1;
  }
  json out;
  out["measurement"] = rq.measurement;
  json stations = json::array();
  std::optional<double> low, high;
  std::string unit;
  int k = 0;
  std::vector<std::vector<RuleHit>> hits_of;  // by station, as `stations`
  std::vector<const std::vector<Point>*> runs_of;
  for (auto& [station, s] : by_station) {
    if (rq.last > 0 && s.points.size() > rq.last) s.points.erase(s.points.begin(), s.points.end() - static_cast<long>(rq.last));
    std::vector<double> v;
    for (const Point& p : s.points) v.push_back(p.value);
    const SpcSummary sum = spc_summary(v, s.low, s.high);
    const XbarChart xb = xbar_chart(v, rq.subgroup);
    low = s.low;
    high = s.high;
    unit = s.unit;
    // Hits come in the order of their points. As JSON only when asked for: a long drift fires
    // on most of 100,000 points.
    json hits = json::array();
    std::vector<std::size_t> flagged;
    for (const RuleHit& h : sum.hits) {
      if (rq.json)
        hits.push_back({{"rule", h.rule}, {"index", h.index}, {"run_id", s.points[h.index].run_id}, {"what", h.description}});
      if (flagged.empty() || flagged.back() != h.index) flagged.push_back(h.index);
    }
    hits_of.push_back(sum.hits);
    runs_of.push_back(&s.points);
    stations.push_back({{"id", "station-" + std::to_string(k++)}, {"station", station}, {"n", sum.n}, {"mean", num(sum.mean)},
                        {"sigma", num(sum.sigma)}, {"cp", num(sum.cp)}, {"cpk", num(sum.cpk)}, {"centre", num(sum.centre)},
                        {"ucl", num(sum.ucl)}, {"lcl", num(sum.lcl)}, {"sigma_hat", num(sum.sigma_hat)},
                        {"low", num(s.low)}, {"high", num(s.high)}, {"values", v}, {"hits", hits}, {"flagged", flagged},
                        {"xbar", {{"subgroup", xb.subgroup}, {"means", xb.means}, {"ranges", xb.ranges},
                                  {"centre", num(xb.centre)}, {"ucl", num(xb.ucl)}, {"lcl", num(xb.lcl)}}}});
  }
  out["stations"] = stations;
  out["unit"] = unit;
  out["low"] = num(low);
  out["high"] = num(high);

  // The chart page.
  const std::string html_file = rq.html.empty() ? "spc-" + rq.measurement + ".html" : rq.html;
  ReportPage page("zhil spc — " + rq.measurement);
  std::ostringstream& h = page.body();
  h << "<h1>SPC: " << esc(rq.measurement) << "</h1>\n<p class=\"note\">" << esc(shown)
    << (rq.product.empty() ? "" : ", product " + esc(rq.product)) << (rq.station.empty() ? "" : ", station " + esc(rq.station))
    << (rq.last ? ", the newest " + std::to_string(rq.last) + " per station" : "") << ". Limits " << fmt(low) << " – "
    << fmt(high) << " " << esc(unit) << ". Individuals chart: centre, and control limits at 3 sigma from the moving "
    << "range (green, red dashed); spec limits (orange); red dots where a Western Electric rule fires.</p>\n";
  h << "<table class=\"list\"><tr><th>station</th><th>n</th><th>mean</th><th>sigma</th><th>Cp</th><th>Cpk</th><th>drift</th></tr>\n";
  json page_stations = json::array();
  for (std::size_t si = 0; si < stations.size(); ++si) {
    const json& s = stations[si];
    h << "<tr><td>" << esc(s["station"].get<std::string>()) << "</td><td>" << s["n"].get<std::size_t>() << "</td>";
    for (const char* key : {"mean", "sigma", "cp", "cpk"})
      h << "<td>" << fmt(s[key].is_null() ? std::nullopt : std::optional<double>(s[key].get<double>())) << "</td>";
    h << "<td>";
    // Each rule that fires: how often, and its first three places (a long drift fires thousands of times).
    std::map<int, std::size_t> shown_of_rule, count_of_rule;
    for (const RuleHit& hit : hits_of[si]) ++count_of_rule[hit.rule];
    for (const RuleHit& hit : hits_of[si]) {
      if (shown_of_rule[hit.rule]++ >= 3) continue;
      h << esc(hit.description) << " at #" << hit.index + 1 << " (run " << esc((*runs_of[si])[hit.index].run_id) << ")<br>";
    }
    for (const auto& [rule, n] : count_of_rule)
      if (n > 3) h << "rule " << rule << ": " << n - 3 << " more<br>";
    h << "</td></tr>\n";
    // What the charts need, and no more: the page stays small with 100,000 runs.
    json ps = s;
    if (ps.contains("hits")) ps.erase("hits");
    page_stations.push_back(std::move(ps));
  }
  h << "</table>\n";
  for (const json& s : stations) {
    const std::string id = s["id"];
    h << "<h2>" << esc(s["station"].get<std::string>()) << "</h2>\n<h3>Individuals</h3><div class=\"plot\" id=\"" << id
      << "-i\"></div>\n<h3>X-bar (subgroups of " << rq.subgroup << ")</h3><div class=\"plot\" id=\"" << id << "-x\"></div>\n";
  }
  json page_data = out;
  page_data["stations"] = page_stations;
  page.add_data("zhil-spc", page_data);
  page.add_script(kSpcScript);
  const std::filesystem::path hp = std::filesystem::absolute(html_file);
  if (Status st = write_report_file(hp.parent_path().string(), hp.filename().string(), page.html()); !st) {
    std::cerr << "zhil spc: " << st.message() << "\n";
    return 2;
  }

  if (rq.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("spc %s  (%s; limits %s – %s %s)\n", rq.measurement.c_str(), shown.c_str(), fmt(low).c_str(), fmt(high).c_str(),
              unit.c_str());
  std::printf("%-28s %6s %12s %12s %8s %8s  %s\n", "station", "n", "mean", "sigma", "Cp", "Cpk", "drift (Western Electric)");
  for (std::size_t si = 0; si < stations.size(); ++si) {
    const json& s = stations[si];
    auto val = [&](const char* key) { return s[key].is_null() ? std::optional<double>() : std::optional<double>(s[key].get<double>()); };
    std::string drift;
    std::map<int, std::pair<std::size_t, std::size_t>> per_rule;  // rule -> (count, first index)
    for (const RuleHit& hit : hits_of[si]) {
      auto& e = per_rule[hit.rule];
      if (e.first++ == 0) e.second = hit.index;
    }
    for (const auto& [rule, e] : per_rule)
      drift += (drift.empty() ? "" : "; ") + ("rule " + std::to_string(rule) + " fires " + std::to_string(e.first) +
                                              "x, first at #" + std::to_string(e.second + 1));
    std::printf("%-28s %6zu %12s %12s %8s %8s  %s\n", s["station"].get<std::string>().c_str(), s["n"].get<std::size_t>(),
                fmt(val("mean"), 6).c_str(), fmt(val("sigma")).c_str(), fmt(val("cp"), 3).c_str(),
                fmt(val("cpk"), 3).c_str(), drift.empty() ? "none" : drift.c_str());
  }
  std::printf("chart: %s\n", hp.string().c_str());
  return 0;
}

}  // namespace zhil::lab
