#include "harness/recording/timeseries_writer.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "harness/recording/test_record.hpp"

namespace zhil {

TimeseriesWriter::~TimeseriesWriter() { (void)close(); }

Status TimeseriesWriter::on_started(const RunInfo&, const SignalTable& signals) {
  ids_ = select_signals(signals, patterns_);
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) return Status::error(path_ + ": cannot create: " + std::strerror(errno));
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  std::string header = "t";
  for (SignalId id : ids_) header += "," + signals.info(id).name;
  header += "\n";
  std::fwrite(header.data(), 1, header.size(), file_);
  line_.resize(32 * (ids_.size() + 1) + 2);
  return Status::ok();
}

Status TimeseriesWriter::on_row(Time t, const SignalTable& signals) {
  if (!file_) return Status::ok();
  char* p = line_.data();
  char* end = line_.data() + line_.size();
  p = std::to_chars(p, end, to_seconds(t)).ptr;
  for (SignalId id : ids_) {
    *p++ = ',';
    const double v = signals.value(id);
    p = std::to_chars(p, end, v == 0.0 ? 0.0 : v).ptr;  // no "-0"
  }
  *p++ = '\n';
  std::fwrite(line_.data(), 1, static_cast<std::size_t>(p - line_.data()), file_);
  ++rows_;
  return Status::ok();
}

Status TimeseriesWriter::flush() {
  if (file_ && std::fflush(file_) != 0) return Status::error(path_ + ": write failed: " + std::strerror(errno));
  return Status::ok();
}

Status TimeseriesWriter::close() {
  if (!file_) return Status::ok();
  Status s = flush();
  std::fclose(file_);
  file_ = nullptr;
  return s;
}

Status TimeseriesWriter::on_finished(TestRecord& record) {
  Status s = close();
  record.timeseries_file = std::filesystem::path(path_).filename().string();
  record.timeseries_rows = rows_;
  record.timeseries_columns = ids_.size();
  return s;
}

}  // namespace zhil
