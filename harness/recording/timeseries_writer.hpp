#pragma once
// timeseries.csv, a sink of the run: first column t (simulated seconds since the start), then the
// signals the scenario records (all of them unless it says `record:`), in table order. Numbers are
// written with std::to_chars (shortest exact form), so the same run gives the same bytes, and a t
// of 29.4 s is written "29.4". Buffered; flush() pushes everything recorded so far to the file.
#include <cstdio>
#include <string>
#include <vector>

#include "harness/recording/signal_selection.hpp"
#include "harness/run_sink.hpp"

namespace zhil {

class TimeseriesWriter final : public RunSink {
 public:
  TimeseriesWriter(std::string path, std::vector<RecordPattern> patterns = {})
      : path_(std::move(path)), patterns_(std::move(patterns)) {}
  ~TimeseriesWriter() override;
  TimeseriesWriter(const TimeseriesWriter&) = delete;
  TimeseriesWriter& operator=(const TimeseriesWriter&) = delete;

  // Throws std::runtime_error for a record pattern that matches nothing.
  Status on_started(const RunInfo& info, const SignalTable& signals) override;
  Status on_row(Time t, const SignalTable& signals) override;
  Status flush() override;
  Status on_finished(TestRecord& record) override;

  Status close();
  std::uint64_t rows() const { return rows_; }
  std::size_t columns() const { return ids_.size(); }

 private:
  std::string path_;
  std::vector<RecordPattern> patterns_;
  std::vector<SignalId> ids_;
  std::FILE* file_ = nullptr;
  std::vector<char> line_;
  std::uint64_t rows_ = 0;
};

}  // namespace zhil
