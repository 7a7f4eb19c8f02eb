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
  fd_ = folder_->create(name_, error);
  if (fd_ < 0) return Status::error(error);
  std::string header = "t";
  for (SignalId id : ids_) header += "," + signals.info(id).name;
  header += "\n";
  capacity_ = std::max(kBatchBytes, header.size()) + max_row_bytes(ids_.size());
  buffer_ = std::make_unique<char[]>(capacity_);
  std::memcpy(buffer_.get(), header.data(), header.size());
  used_ = header.size();
  // The header goes out at once: a run killed before its first batch leaves a file with columns.
  return write_batch();
}

Status TimeseriesWriter::on_row(Time t, const SignalTable& signals) {
  if (fd_ < 0) return error_.empty() ? Status::ok() : Status::error(error_);
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
  ++rows_in_batch_;
  if (used_ >= kBatchBytes) return write_batch();
  return Status::ok();
}

Status TimeseriesWriter::write_batch() {
  if (fd_ < 0) return error_.empty() ? Status::ok() : Status::error(error_);
  if (used_ == 0) return Status::ok();
  if (!write_all(fd_, std::string_view(buffer_.get(), used_))) {
    const int e = errno;
    // Cut back to the last whole row: what is on disk stays readable, and the row count true.
    (void)!ftruncate(fd_, static_cast<off_t>(bytes_on_disk_));
    error_ = folder_->file(name_) + ": write failed after " + std::to_string(rows_on_disk_) +
             " rows: " + std::strerror(e);
    ::close(fd_);
    fd_ = -1;
    used_ = 0;
    return Status::error(error_);
  }
  bytes_on_disk_ += used_;
  rows_on_disk_ += rows_in_batch_;
  rows_in_batch_ = 0;
  used_ = 0;
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
