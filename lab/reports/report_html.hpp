#pragma once
// What every HTML report of zhil shares: one self-contained page (styles, data as JSON, uPlot and
// the page's own script all inline; nothing loaded from a network), HTML escaping, and writing the
// file atomically beside the run's other results.
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "harness/status.hpp"

namespace zhil::lab {

std::string esc(std::string_view text);  // HTML text and attribute values
// The names an expression reads: identifiers with dots (pack1.t_max, run.inv1.comm_ok); words
// without a dot (and, or) are among them, and are not signals.
std::vector<std::string> signal_names_in(const std::string& expression);

class ReportPage {
 public:
  explicit ReportPage(std::string title) : title_(std::move(title)) {}
  std::ostringstream& body() { return body_; }
  // A <script type="application/json" id=...> the page's script reads (JSON.parse).
  void add_data(const std::string& id, const nlohmann::json& data);
  void add_script(std::string_view js) { scripts_ += std::string(js) + "\n"; }
  std::string html() const;

 private:
  std::string title_;
  std::ostringstream body_;
  std::string data_, scripts_;
};

// `dir`/`name` replaced by `text` atomically (temporary file, fsync, rename).
Status write_report_file(const std::string& dir, const std::string& name, const std::string& text);

// The run report's script (plots with windows and violation marks); lab/reports/report_html.cpp.
extern const std::string_view kRunReportScript;

}  // namespace zhil::lab
