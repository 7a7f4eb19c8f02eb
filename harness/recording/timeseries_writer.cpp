#include "harness/recording/timeseries_writer.hpp"

#include <sys/stat.h>
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
  std::string header = "t";
  for (SignalId id : ids_) header += "," + signals.info(id).name;
  header += "\n";
  int fd = -1;
  if (resuming_) {
    fd = folder_->open_existing(name_, error);
    if (fd < 0) return Status::error(error);
    std::string head(header.size(), '\0');
    struct stat st{};
    const ssize_t got = ::pread(fd, head.data(), head.size(), 0);
    const char* why = nullptr;
    if (fstat(fd, &st) != 0 || got < 0) why = "cannot be read";
    else if (static_cast<std::size_t>(got) != head.size() || head != header)
      why = "has other columns than this run records";
    else if (static_cast<std::uint64_t>(st.st_size) < resume_bytes_)
      why = "is shorter than at the checkpoint";
    else if (::ftruncate(fd, static_cast<off_t>(resume_bytes_)) != 0 || ::lseek(fd, 0, SEEK_END) < 0)
      why = "cannot be cut back to the checkpoint";
    if (why) {
      error_ = folder_->file(name_) + ": " + why + " (" + std::to_string(resume_bytes_) + " bytes): cannot resume it";
      ::close(fd);
      return Status::error(error_);
    }
    bytes_emitted_ = resume_bytes_;
    rows_emitted_ = rows_on_disk_ = resume_rows_;
    writer_.set_rows_before(resume_rows_);
  } else {
    fd = folder_->create(name_, error);
    if (fd < 0) return Status::error(error);
    // The header goes out at once: a run killed before its first batch leaves a file with columns.
    if (!write_all(fd, header)) {
      error_ = folder_->file(name_) + ": write failed: " + std::strerror(errno);
      ::close(fd);
      return Status::error(error_);
    }
    bytes_emitted_ = header.size();
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
  const std::size_t before = used_;
  used_ = static_cast<std::size_t>(p - buffer_.get());
  bytes_emitted_ += used_ - before;
  ++rows_emitted_;
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
