#include "devices/can/can_log_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstring>

#include "devices/can/can_traffic.hpp"

namespace zhil::can {

CanTraffic& CanTraffic::instance() {
  static CanTraffic t;
  return t;
}

void CanTraffic::attach(const std::string& bus, const void* endpoint) {
  auto& e = buses_[bus].endpoints;
  if (std::find(e.begin(), e.end(), endpoint) == e.end()) e.push_back(endpoint);
}

void CanTraffic::detach(const std::string& bus, const void* endpoint) {
  auto it = buses_.find(bus);
  if (it == buses_.end()) return;
  auto& e = it->second.endpoints;
  e.erase(std::remove(e.begin(), e.end(), endpoint), e.end());
  if (e.empty()) buses_.erase(it);
}

void CanTraffic::record_tx(const std::string& bus, const CanFrame& f, Time at) {
  auto& b = buses_[bus];
  if (b.endpoints.size() > 1) {
    b.sent.push_back(f);
    if (b.sent.size() > 4096) b.sent.erase(b.sent.begin());
  }
  record(bus, f, at);
}

void CanTraffic::record_rx(const std::string& bus, const CanFrame& f, Time at, const void* endpoint) {
  auto it = buses_.find(bus);
  if (it != buses_.end()) {
    BusSeen& b = it->second;
    if (!b.endpoints.empty() && b.endpoints.front() != endpoint) return;
    auto s = std::find(b.sent.begin(), b.sent.end(), f);
    if (s != b.sent.end()) {
      b.sent.erase(s);
      return;
    }
  }
  record(bus, f, at);
}

std::string can_log_name(const std::string& bus) {
  std::string s = "can-";
  for (char c : bus) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return s + ".log";
}

CanLogSink::CanLogSink(std::shared_ptr<CanTraffic> traffic) : traffic_(std::move(traffic)) {}

CanTraffic& CanLogSink::traffic() const { return traffic_ ? *traffic_ : CanTraffic::instance(); }

CanLogSink::~CanLogSink() {
  traffic().clear_listener(token_);
  close_all();
}

Status CanLogSink::on_started(const RunInfo& info, const SignalTable&) {
  dir_ = info.out_dir;
  real_time_ = info.real_time;
  epoch_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  token_ = traffic().set_listener([this](const std::string& bus, const CanFrame& f, Time at) {
    const double t = real_time_ ? epoch_ + to_seconds(at) : to_seconds(at);
    const std::string head = "(" + format_seconds_micros(t) + ") ";
    // candump names the interface; a bus name with spaces would break the format.
    std::string name = bus;
    for (char& c : name)
      if (c == ' ') c = '_';
    write(bus, head + name + " " + to_compact(f) + "\n");
  });
  return Status::ok();
}

void CanLogSink::write(const std::string& bus, const std::string& line) {
  if (dir_.empty() || !error_.empty()) return;
  std::FILE*& f = files_[bus];
  if (!f) {
    const std::string path = dir_ + "/" + can_log_name(bus);
    // A new file of the run's own: never through a symbolic link, never over a file already there.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    f = fd < 0 ? nullptr : ::fdopen(fd, "w");
    if (!f) {
      error_ = path + ": " + std::strerror(errno);
      return;
    }
  }
  if (std::fwrite(line.data(), 1, line.size(), f) != line.size()) error_ = dir_ + "/" + can_log_name(bus) + ": " + std::strerror(errno);
  ++frames_;
}

Status CanLogSink::flush() {
  for (auto& [bus, f] : files_)
    if (f && std::fflush(f) != 0 && error_.empty()) error_ = dir_ + "/" + can_log_name(bus) + ": " + std::strerror(errno);
  return error_.empty() ? Status::ok() : Status::error("CAN log " + error_);
}

void CanLogSink::close_all() {
  for (auto& [bus, f] : files_)
    if (f) std::fclose(f);
  files_.clear();
}

Status CanLogSink::on_finished(TestRecord&) {
  traffic().clear_listener(token_);
  Status s = flush();
  for (auto& [bus, f] : files_)
    if (f && std::fclose(f) != 0 && s) s = Status::error("CAN log " + dir_ + "/" + can_log_name(bus) + ": " + std::strerror(errno));
  files_.clear();
  return s;
}

}  // namespace zhil::can
