#pragma once
// timeseries.csv, a sink of the run: first column t (simulated seconds since the start), then the
// signals the scenario records (all of them unless it says `record:`), in table order. Numbers are
// written with std::to_chars (shortest exact form), so the same run gives the same bytes, and a t
// of 29.4 s is written "29.4".
//
// Rows are formatted into one buffer and handed over whole, a batch at a time, to a writer process
// of their own (row_writer_process.hpp), so that a SIGKILL of the harness leaves whole rows on
// disk (a stdio buffer, or even one write(2) of the batch, would be cut mid-row). Every write is
// checked: a full disk or an I/O error is returned, never hidden, and a write that fails part-way
// is cut back to the last whole row, so the file and the record's row count agree.
#include <memory>
#include <string>
#include <vector>

#include "harness/recording/output_folder.hpp"
#include "harness/recording/row_writer_process.hpp"
#include "harness/recording/signal_selection.hpp"
#include "harness/run_sink.hpp"

namespace zhil {

class TimeseriesWriter final : public RunSink {
 public:
  TimeseriesWriter(std::shared_ptr<const OutputFolder> folder, std::vector<RecordPattern> patterns = {},
                   std::string name = "timeseries.csv")
      : folder_(std::move(folder)), name_(std::move(name)), patterns_(std::move(patterns)) {}
  ~TimeseriesWriter() override;
  TimeseriesWriter(const TimeseriesWriter&) = delete;
  TimeseriesWriter& operator=(const TimeseriesWriter&) = delete;

  // Throws std::runtime_error for a record pattern that matches nothing.
  Status on_started(const RunInfo& info, const SignalTable& signals) override;
  Status on_row(Time t, const SignalTable& signals) override;
  Status flush() override;
  Status on_finished(TestRecord& record) override;

  Status close();
  std::uint64_t rows() const { return rows_on_disk_; }  // whole rows written to the file
  // Bytes and rows given to the writer so far, header included (a checkpoint names where its rows
  // end), after flush(): all of them are then with the writer process, which outlives a kill.
  std::uint64_t bytes_emitted() const { return bytes_emitted_; }
  std::uint64_t rows_emitted() const { return rows_emitted_; }
  // Before on_started: continue the file of an earlier run from `bytes` (its header and `rows`
  // rows); what it holds after that is cut. The header must be the one this run would write.
  void resume_at(std::uint64_t bytes, std::uint64_t rows) {
    resume_bytes_ = bytes;
    resume_rows_ = rows;
    resuming_ = true;
  }
  std::size_t columns() const { return ids_.size(); }
  // Bytes one row takes at most (for the output estimate before a run).
  static std::size_t max_row_bytes(std::size_t columns) { return 25 * (columns + 1) + 1; }

 private:
  Status write_batch();

  std::shared_ptr<const OutputFolder> folder_;
  std::string name_;
  std::vector<RecordPattern> patterns_;
  std::vector<SignalId> ids_;
  bool open_ = false;
  RowWriterProcess writer_;
  // Whole rows not yet written: buffer_[0, used_). Rows are formatted in place; the buffer has
  // room for a batch and one row more.
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0, used_ = 0;
  std::uint64_t rows_on_disk_ = 0;
  std::uint64_t bytes_emitted_ = 0, rows_emitted_ = 0;
  bool resuming_ = false;
  std::uint64_t resume_bytes_ = 0, resume_rows_ = 0;
  std::string error_;            // the first write error; later rows are refused with it
};

}  // namespace zhil
