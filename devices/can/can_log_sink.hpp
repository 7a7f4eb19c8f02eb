#pragma once
// The bus logs of a run, a sink: every frame of every CAN bus to DIR/can-<bus>.log in can-utils'
// candump log format, "(seconds.micros) bus ID#DATA", which log2asc, canplayer and zhil's own
// `zhil can replay` / `zhil can decode` read. Times are the run's: seconds since its start in
// simulated time (so the same run gives the same bytes), wall-clock epoch seconds in real time.
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "harness/run_sink.hpp"

namespace zhil::can {

class CanTraffic;

class CanLogSink final : public RunSink {
 public:
  // The bus logs of one bench (bench_traffic); default, the process's (standalone tools).
  explicit CanLogSink(std::shared_ptr<CanTraffic> traffic = nullptr);
  ~CanLogSink() override;
  Status on_started(const RunInfo& info, const SignalTable& table) override;
  Status flush() override;
  Status on_finished(TestRecord& record) override;
  std::uint64_t frames() const { return frames_; }

 private:
  void write(const std::string& bus, const std::string& line);
  void close_all();
  std::string dir_;
  double epoch_ = 0;
  bool real_time_ = false;
  std::map<std::string, std::FILE*> files_;
  std::string error_;
  std::uint64_t frames_ = 0;
  int token_ = 0;
  std::shared_ptr<CanTraffic> traffic_;
  CanTraffic& traffic() const;
};

// "can-<bus>.log" with anything but letters, digits, '-', '_' and '.' made '_'.
std::string can_log_name(const std::string& bus);

}  // namespace zhil::can
