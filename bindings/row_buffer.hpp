#pragma once
// The time series of a Python run kept in memory as it is recorded, so that run.timeseries() gives a
// DataFrame at any moment of the run, not only once timeseries.csv is complete. Same columns and
// rows as timeseries.csv (the scenario's `record:` patterns, at its record interval). Beyond a cap
// it stops keeping rows (the CSV still has them all) and says so.
#include <cstdint>
#include <string>
#include <vector>

#include "harness/recording/signal_selection.hpp"
#include "harness/run_sink.hpp"

namespace zhil::python {

class RowBuffer final : public RunSink {
 public:
  RowBuffer(std::vector<RecordPattern> patterns, std::uint64_t max_bytes)
      : patterns_(std::move(patterns)), max_values_(max_bytes / sizeof(double)) {}
  Status on_started(const RunInfo&, const SignalTable& signals) override {
    ids_ = select_signals(signals, patterns_);
    columns_.clear();
    for (SignalId id : ids_) columns_.push_back(signals.info(id).name);
    return Status::ok();
  }
  Status on_row(Time t, const SignalTable& signals) override {
    if (full_) return Status::ok();
    if (values_.size() + ids_.size() + 1 > max_values_) {
      full_ = true;
      return Status::ok();
    }
    times_.push_back(to_seconds(t));
    for (SignalId id : ids_) values_.push_back(signals.value(id));
    return Status::ok();
  }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<double>& times() const { return times_; }
  const std::vector<double>& values() const { return values_; }  // row-major, columns().size() per row
  bool full() const { return full_; }

 private:
  std::vector<RecordPattern> patterns_;
  std::size_t max_values_;
  std::vector<SignalId> ids_;
  std::vector<std::string> columns_;
  std::vector<double> times_, values_;
  bool full_ = false;
};

}  // namespace zhil::python
