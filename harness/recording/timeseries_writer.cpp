#include "harness/recording/timeseries_writer.hpp"

#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <cstring>

#include "harness/recording/test_record.hpp"

namespace zhil {
namespace {
constexpr std::size_t kBatchBytes = 1 << 20;
}

TimeseriesWriter::~TimeseriesWriter() { (void)close(); }

Status TimeseriesWriter::on_started(const RunInfo&, const SignalTable& signals) {
  ids_ = select_signals(signals, patterns_);
  std::string error;
  const int fd = folder_->create(name_, error);
  if (fd < 0) return Status::error(error);
  std::string header = "t";
  for (SignalId id : ids_) header += "," + signals.info(id).name;
  header += "\n";
  // The header goes out at once: a run killed before its first batch leaves a file with columns.
  if (!write_all(fd, header)) {
    error_ = folder_->file(name_) + ": write failed: " + std::strerror(errno);
    ::close(fd);
    return Status::error(error_);
  }
  capacity_ = kBatchBytes + max_row_bytes(ids_.size());
  buffer_ = std::make_unique<char[]>(capacity_);
  used_ = 0;
  Status s = writer_.start(fd, folder_->file(name_), capacity_, folder_->descriptor());
  ::close(fd);  // the writer has its own
  if (!s) {
    error_ = s.message();
    return s;
  }
  open_ = true;
  return Status::ok();
}

Status TimeseriesWriter::on_row(Time t, const SignalTable& signals) {
  if (!open_) return error_.empty() ? Status::ok() : Status::error(error_);
  char* p = buffer_.get() + used_;
  char* end = buffer_.get() + capacity_;
  p = std::to_chars(p, end, to_seconds(t)).ptr;
  for (SignalId id : ids_) {
    *p++ = ',';
    const double v = signals.value(id);
    p = std::to_chars(p, end, v == 0.0 ? 0.0 : v).ptr;  // no "-0"
  }
  *p++ = '\n';
  used_ = static_cast<std::size_t>(p - buffer_.get());
  if (used_ >= kBatchBytes) return write_batch();
  return Status::ok();
}

Status TimeseriesWriter::write_batch() {
  if (!open_) return error_.empty() ? Status::ok() : Status::error(error_);
  if (used_ == 0) return Status::ok();
  Status s = writer_.send(std::string_view(buffer_.get(), used_));
  used_ = 0;
  if (!s) {
    error_ = s.message();
    open_ = false;
    (void)writer_.finish(rows_on_disk_);
  }
  return s;
}

Status TimeseriesWriter::flush() { return write_batch(); }

Status TimeseriesWriter::close() {
  // A write error was returned when it happened (the run stopped with it): not again.
  if (!open_) return Status::ok();
  Status s = write_batch();
  if (open_) {
    open_ = false;
    s = writer_.finish(rows_on_disk_);
  }
  return s;
}

Status TimeseriesWriter::on_finished(TestRecord& record) {
  Status s = close();
  record.timeseries_file = name_;
  record.timeseries_rows = rows_on_disk_;
  record.timeseries_columns = ids_.size();
  return s;
}

}  // namespace zhil
