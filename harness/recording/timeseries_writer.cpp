#include "harness/recording/timeseries_writer.hpp"

#include <unistd.h>

#include <cerrno>
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
  fd_ = folder_->create(name_, error);
  if (fd_ < 0) return Status::error(error);
  batch_.reserve(kBatchBytes + max_row_bytes(ids_.size()));
  batch_ = "t";
  for (SignalId id : ids_) batch_ += "," + signals.info(id).name;
  batch_ += "\n";
  // The header goes out at once: a run killed before its first batch leaves a file with columns.
  return write_batch();
}

Status TimeseriesWriter::on_row(Time t, const SignalTable& signals) {
  if (fd_ < 0) return error_.empty() ? Status::ok() : Status::error(error_);
  const std::size_t at = batch_.size();
  batch_.resize(at + max_row_bytes(ids_.size()));
  char* p = batch_.data() + at;
  char* end = batch_.data() + batch_.size();
  p = std::to_chars(p, end, to_seconds(t)).ptr;
  for (SignalId id : ids_) {
    *p++ = ',';
    const double v = signals.value(id);
    p = std::to_chars(p, end, v == 0.0 ? 0.0 : v).ptr;  // no "-0"
  }
  *p++ = '\n';
  batch_.resize(static_cast<std::size_t>(p - batch_.data()));
  ++rows_in_batch_;
  if (batch_.size() >= kBatchBytes) return write_batch();
  return Status::ok();
}

Status TimeseriesWriter::write_batch() {
  if (fd_ < 0) return error_.empty() ? Status::ok() : Status::error(error_);
  if (batch_.empty()) return Status::ok();
  if (!write_all(fd_, batch_)) {
    const int e = errno;
    // Cut back to the last whole row: what is on disk stays readable, and the row count true.
    if (ftruncate(fd_, static_cast<off_t>(bytes_on_disk_)) == 0) (void)lseek(fd_, 0, SEEK_END);
    error_ = folder_->file(name_) + ": write failed after " + std::to_string(rows_on_disk_) +
             " rows: " + std::strerror(e);
    ::close(fd_);
    fd_ = -1;
    batch_.clear();
    return Status::error(error_);
  }
  bytes_on_disk_ += batch_.size();
  rows_on_disk_ += rows_in_batch_;
  rows_in_batch_ = 0;
  batch_.clear();
  return Status::ok();
}

Status TimeseriesWriter::flush() { return write_batch(); }

Status TimeseriesWriter::close() {
  if (fd_ < 0) return error_.empty() ? Status::ok() : Status::error(error_);
  Status s = write_batch();
  if (fd_ >= 0) {
    if (fdatasync(fd_) != 0 && errno != EINVAL && errno != EROFS)
      s = Status::error(folder_->file(name_) + ": write failed (sync): " + std::strerror(errno));
    if (::close(fd_) != 0 && s)
      s = Status::error(folder_->file(name_) + ": write failed (close): " + std::strerror(errno));
    fd_ = -1;
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
