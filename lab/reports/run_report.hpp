#pragma once
// The run report: DIR/report.html, one self-contained file a test engineer opens in a browser with
// no network. Verdict, DUT and station, checks with their evidence, measurements with limits and
// marginal bands, events, the safe state, and an interactive plot (uPlot: zoom by dragging,
// double-click to reset, cursors in step across plots) of the recorded signals each check and
// measurement reads, with its window shaded and a check's first violation marked.
//
// Each plot carries data- attributes a test (or a script) can read after it has drawn: the number
// of series, whether its canvas was drawn, and where the violation mark is.
#include <memory>
#include <string>

#include "harness/run_sink.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/status.hpp"

namespace zhil::lab {

// The report of a finished run from its record and its results folder's timeseries.csv (what the
// scenario recorded; a signal a check reads that was not recorded is named, not plotted).
// `scenario` gives the checks' and measurements' windows (null: the whole run).
std::string run_report_html(const TestRecord& record, const Scenario* scenario, const std::string& out_dir);

// Written at the run's end, after the time series is closed and before the results store hashes
// the folder's files.
class RunReportSink final : public RunSink {
 public:
  explicit RunReportSink(const Scenario* scenario) : scenario_(scenario) {}
  Status on_started(const RunInfo& info, const SignalTable&) override {
    out_dir_ = info.out_dir;
    return Status::ok();
  }
  Status on_finished(TestRecord& record) override;

 private:
  const Scenario* scenario_;
  std::string out_dir_;
};

}  // namespace zhil::lab
