#include "harness/recording/timeseries_writer.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>

namespace zhil {

TimeseriesWriter::~TimeseriesWriter() { (void)close(); }

Status TimeseriesWriter::open(const std::string& path, const SignalTable& signals) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) return Status::error(path + ": cannot create: " + std::strerror(errno));
  path_ = path;
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  std::string header = "t";
  for (SignalId id = 0; id < signals.size(); ++id) header += "," + signals.info(id).name;
  header += "\n";
  std::fwrite(header.data(), 1, header.size(), file_);
  line_.resize(32 * (signals.size() + 1) + 2);
  return Status::ok();
}

void TimeseriesWriter::write_row(Time t, const SignalTable& signals) {
  char* p = line_.data();
  char* end = line_.data() + line_.size();
  p = std::to_chars(p, end, to_seconds(t)).ptr;
  const std::size_t n = signals.size();
  for (SignalId id = 0; id < n; ++id) {
    *p++ = ',';
    const double v = signals.value(id);
    p = std::to_chars(p, end, v == 0.0 ? 0.0 : v).ptr;  // no "-0"
  }
  *p++ = '\n';
  std::fwrite(line_.data(), 1, static_cast<std::size_t>(p - line_.data()), file_);
  ++rows_;
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

}  // namespace zhil
