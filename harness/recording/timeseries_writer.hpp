#pragma once
// timeseries.csv: first column t (simulated seconds since the start), then every signal in table
// order. Numbers are written with std::to_chars (shortest exact form), so the same run gives the
// same bytes. Buffered; flush() pushes everything recorded so far to the file.
#include <cstdio>
#include <string>
#include <vector>

#include "harness/signal_table.hpp"
#include "harness/status.hpp"

namespace zhil {

class TimeseriesWriter {
 public:
  TimeseriesWriter() = default;
  ~TimeseriesWriter();
  TimeseriesWriter(const TimeseriesWriter&) = delete;
  TimeseriesWriter& operator=(const TimeseriesWriter&) = delete;

  Status open(const std::string& path, const SignalTable& signals);
  void write_row(Time t, const SignalTable& signals);
  Status flush();
  Status close();
  std::uint64_t rows() const { return rows_; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  std::vector<char> line_;
  std::uint64_t rows_ = 0;
};

}  // namespace zhil
