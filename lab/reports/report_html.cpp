#include "lab/reports/report_html.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "harness/recording/output_folder.hpp"
#include "lab/reports/web_assets.hpp"

namespace zhil::lab {

std::string esc(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  return out;
}

std::vector<std::string> signal_names_in(const std::string& text) {
  std::vector<std::string> out;
  auto ident = [](char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
           (!first && (std::isdigit(static_cast<unsigned char>(c)) || c == '.'));
  };
  for (std::size_t i = 0; i < text.size();) {
    if (!ident(text[i], true)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && ident(text[j], false)) ++j;
    out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

void ReportPage::add_data(const std::string& id, const nlohmann::json& data) {
  // Inside <script>, "</script" would end the element and "<!--" would change how the rest of the
  // page is parsed: no <, > or & reaches the page as such (JSON spells them \u003c... in strings,
  // the only place they can be).
  std::string text = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string safe;
  safe.reserve(text.size());
  for (char c : text) {
    if (c == '<') safe += "\\u003c";
    else if (c == '>') safe += "\\u003e";
    else if (c == '&') safe += "\\u0026";
    else safe += c;
  }
  data_ += "<script type=\"application/json\" id=\"" + esc(id) + "\">" + safe + "</script>\n";
}

namespace {

constexpr std::string_view kStyle = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05em; margin: .3em 0; }
table { border-collapse: collapse; } td, th { padding: 3px 8px; text-align: left; vertical-align: top; }
table.list { width: 100%; } table.list tr:nth-child(even) { background: #f6f6f6; } table.list th { background: #eee; }
table.facts th { color: #555; font-weight: normal; }
.verdict { font-weight: bold; padding: 1px 6px; border-radius: 3px; }
.pass { color: #0a6b2b; } .fail { color: #b00020; } .error, .aborted { color: #8a4b00; } .incomplete { color: #555; }
h1 .verdict.pass { background: #dff5e5; } h1 .verdict.fail { background: #fde0e4; } h1 .verdict.error { background: #fdebd0; }
.reason { color: #b00020; } .note { color: #555; font-size: .9em; } .where { color: #777; font-size: .85em; }
.plot-box { margin: 1em 0 1.6em; } .plot { min-height: 280px; }
code { font-size: .92em; }
)css";

}  // namespace

std::string ReportPage::html() const {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<meta name=\"generator\" content=\"zhil (uPlot " + std::string(kUplotVersion) + ")\">\n";
  out += "<title>" + esc(title_) + "</title>\n<style>\n";
  out += kUplotCss;
  out += kStyle;
  out += "</style></head>\n<body>\n";
  out += body_.str();
  out += data_;
  out += "<script>\n";
  out += kUplotJs;
  out += "\n</script>\n<script>\n";
  out += scripts_;
  out += "</script>\n</body></html>\n";
  return out;
}

Status write_report_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  const std::string tmp = dir + "/.zhil-tmp-" + name + "-" + std::to_string(getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error(path + ": cannot create: " + std::strerror(errno));
  // The project's one complete-write loop (short writes, EINTR).
  if (!write_all(fd, text)) {
    const int e = errno;
    close(fd);
    unlink(tmp.c_str());
    return Status::error(path + ": write failed: " + std::strerror(e));
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    unlink(tmp.c_str());
    return Status::error(path + ": cannot write: " + std::strerror(e));
  }
  return Status::ok();
}

// The run report's plots. One uPlot per check and measurement, x in seconds of run time (hours on
// the axis when the run is long); the window shaded under the series, a check's first violation as
// a red line. After drawing, each plot says on its element what a test checks: series count,
// whether its canvas has pixels, the violation's time.
const std::string_view kRunReportScript = R"js(
(function () {
  const D = JSON.parse(document.getElementById('zhil-data').textContent);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  const span = D.t.length ? D.t[D.t.length - 1] - D.t[0] : 0;
  const hours = span > 4 * 3600;
  const sync = uPlot.sync('zhil');
  const hourTicks = [900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
  // 1.2M, 350k, 0.25: axis labels that fit.
  const compact = v => {
    const a = Math.abs(v);
    if (a >= 1e6) return +(v / 1e6).toPrecision(3) + 'M';
    if (a >= 1e4) return +(v / 1e3).toPrecision(3) + 'k';
    return +v.toPrecision(4);
  };
  let drawn = 0;
  for (const p of D.plots) {
    const el = document.getElementById(p.id);
    if (!el) continue;
    el.dataset.series = String(p.signals.length);
    if (!p.signals.length || !D.t.length) { el.dataset.drawn = '0'; el.textContent = 'nothing recorded to plot'; continue; }
    const data = [D.t].concat(p.signals.map(s => D.columns[s].map(v => v === null ? null : v)));
    const shade = u => {
      const x0 = u.valToPos(Math.max(p.from, u.scales.x.min), 'x', true);
      const x1 = u.valToPos(Math.min(p.until, u.scales.x.max), 'x', true);
      if (x1 <= x0) return;
      u.ctx.save();
      u.ctx.fillStyle = 'rgba(31,119,180,0.08)';
      u.ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
      u.ctx.restore();
    };
    const mark = u => {
      for (const l of p.limits) {
        const y = u.valToPos(l.value, 'y', true);
        if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
        u.ctx.save();
        u.ctx.strokeStyle = l.kind === 'marginal' ? '#e69500' : '#d00';
        u.ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        u.ctx.lineWidth = devicePixelRatio;
        u.ctx.beginPath(); u.ctx.moveTo(u.bbox.left, y); u.ctx.lineTo(u.bbox.left + u.bbox.width, y); u.ctx.stroke();
        u.ctx.restore();
      }
      if (!p.violation) return;
      const x = u.valToPos(p.violation.t, 'x', true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
      u.ctx.save();
      u.ctx.strokeStyle = '#d00'; u.ctx.lineWidth = 2 * devicePixelRatio;
      u.ctx.beginPath(); u.ctx.moveTo(x, u.bbox.top); u.ctx.lineTo(x, u.bbox.top + u.bbox.height); u.ctx.stroke();
      u.ctx.fillStyle = '#d00'; u.ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
      u.ctx.fillText('first violation t=' + p.violation.t + ' s', x + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
      u.ctx.restore();
    };
    const opts = {
      width: Math.max(400, el.clientWidth || 1100), height: 260,
      cursor: { sync: { key: sync.key } },
      // The y range takes in the limits, so that a limit line is on the plot.
      scales: { x: { time: false }, y: { range: (u, lo, hi) => {
        for (const l of p.limits) { lo = Math.min(lo, l.value); hi = Math.max(hi, l.value); }
        const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
        return [lo - pad, hi + pad];
      } } },
      axes: [{ label: hours ? 't (h)' : 't (s)', incrs: hours ? hourTicks : undefined,
               values: (u, vals) => vals.map(v => hours ? +(v / 3600).toFixed(2) : +v.toFixed(3)) },
             { size: 64, values: (u, vals) => vals.map(compact) }],
      series: [{ label: 't (s)' }].concat(p.signals.map((s, i) => ({ label: s, stroke: colors[i % colors.length], width: 1, spanGaps: false }))),
      hooks: { drawClear: [shade], draw: [mark, ink] },
    };
    // Kept on the page for scripts (the report benchmark zooms them).
    (window.zhilPlots = window.zhilPlots || []).push(new uPlot(opts, data, el));
    if (p.violation) el.dataset.violation = String(p.violation.t);
  }
  // Pixels on each canvas once drawn: the plot was really drawn (a test reads this).
  function ink(u) {
    const img = u.ctx.getImageData(0, 0, u.ctx.canvas.width, u.ctx.canvas.height).data;
    let n = 0;
    for (let i = 3; i < img.length; i += 4) if (img[i] > 0) n++;
    const el = u.root.parentNode;
    if (n > 0 && el.dataset.drawn !== '1') drawn++;
    el.dataset.drawn = n > 0 ? '1' : '0';
    document.body.dataset.drawn = String(drawn);
    // Milliseconds from navigation to the last plot drawn (the report benchmark reads it).
    if (drawn === D.plots.length) document.body.dataset.drawnMs = String(Math.round(performance.now()));
  }
  document.body.dataset.plots = String(D.plots.length);
  setTimeout(() => { document.body.dataset.ready = '1'; }, 0);
})();
)js";

}  // namespace zhil::lab
