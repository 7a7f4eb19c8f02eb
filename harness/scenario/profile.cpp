#include "harness/scenario/profile.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <numbers>

#include "harness/config/regular_file.hpp"
#include "harness/config/units.hpp"

namespace zhil {
namespace {

class ConstantProfile final : public Profile {
 public:
  explicit ConstantProfile(double v) : v_(v) {}
  double at(Duration) override { return v_; }

 private:
  double v_;
};

class RampProfile final : public Profile {
 public:
  RampProfile(double from, double to, double over_s) : from_(from), to_(to), over_s_(over_s) {}
  double at(Duration since) override {
    double s = to_seconds(since);
    if (over_s_ <= 0 || s >= over_s_) return to_;
    return from_ + (to_ - from_) * (s / over_s_);
  }

 private:
  double from_, to_, over_s_;
};

// Uniform in [0,1) from the generator's raw bits: std::uniform_real_distribution's output is not
// specified bit-for-bit across standard libraries, this is.
double unit_draw(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

class DiurnalProfile final : public Profile {
 public:
  DiurnalProfile(double min_w, double max_w, double peak_tod_s, double tod0_s, double noise,
                 double noise_interval_s, std::uint64_t seed)
      : min_(min_w), max_(max_w), peak_(peak_tod_s), tod0_(tod0_s), noise_(noise),
        noise_interval_(noise_interval_s), rng_(seed) {}
  double at(Duration since) override {
    double s = to_seconds(since);
    double tod = std::fmod(tod0_ + s, 86400.0);
    double shape = 0.5 + 0.5 * std::cos(2 * std::numbers::pi * (tod - peak_) / 86400.0);
    double v = min_ + (max_ - min_) * shape;
    if (noise_ > 0) {
      // Piecewise-constant noise, one draw per interval, drawn in time order.
      auto slot = static_cast<long>(s / noise_interval_);
      while (slot_ < slot) {
        ++slot_;
        current_noise_ = (2 * unit_draw(rng_) - 1) * noise_;
      }
      v *= 1 + current_noise_;
    }
    return v;
  }

 private:
  double min_, max_, peak_, tod0_, noise_, noise_interval_;
  std::mt19937_64 rng_;
  long slot_ = -1;
  double current_noise_ = 0;
};

class AiTrainingProfile final : public Profile {
 public:
  AiTrainingProfile(const AiTrainingShape& s, std::uint64_t seed) : s_(s), rng_(seed) {
    period_ = draw_period();
  }
  double at(Duration since) override {
    const double t = to_seconds(since);
    const double idle = s_.level_w * s_.idle_level;
    if (t < s_.job_start_s) return idle;
    if (s_.job_stop_s >= 0 && t >= s_.job_stop_s) return idle;
    while (t >= period_start_ + period_) {
      period_start_ += period_;
      period_ = draw_period();
    }
    const double hi = s_.level_w * (1 + s_.swing), lo = s_.level_w * (1 - s_.swing);
    const double phase = t - period_start_;
    const double high_end = s_.duty * period_;
    const double r = std::min(s_.ramp_s, 0.5 * std::min(high_end, period_ - high_end));
    double v;
    if (phase < r) v = lo + (hi - lo) * (r > 0 ? phase / r : 1.0);
    else if (phase < high_end) v = hi;
    else if (phase < high_end + r) v = hi - (hi - lo) * ((phase - high_end) / r);
    else v = lo;
    if (s_.checkpoint_every_s > 0) {
      double since_job = t - s_.job_start_s;
      double k = std::fmod(since_job, s_.checkpoint_every_s);
      if (since_job >= s_.checkpoint_every_s && k < s_.checkpoint_duration_s)
        v = s_.level_w * s_.checkpoint_level;
    }
    // Job start: the swings grow from idle over job_ramp.
    double ramp_in = s_.job_ramp_s > 0 ? std::clamp((t - s_.job_start_s) / s_.job_ramp_s, 0.0, 1.0) : 1.0;
    return idle + (v - idle) * ramp_in;
  }

 private:
  double draw_period() {
    if (s_.period_max_s <= s_.period_min_s) return s_.period_min_s;
    return s_.period_min_s + (s_.period_max_s - s_.period_min_s) * unit_draw(rng_);
  }
  AiTrainingShape s_;
  std::mt19937_64 rng_;
  double period_start_ = 0;
  double period_ = 1;
};

class CsvProfile final : public Profile {
 public:
  CsvProfile(std::shared_ptr<const std::vector<std::pair<double, double>>> points, double scale, bool repeat)
      : points_(std::move(points)), scale_(scale), repeat_(repeat) {}
  double at(Duration since) override {
    const auto& p = *points_;
    double t = to_seconds(since);
    const double span = p.back().first - p.front().first;
    if (repeat_ && span > 0 && t > p.back().first) t = p.front().first + std::fmod(t - p.front().first, span);
    if (t < p[index_].first) index_ = 0;  // wrapped around: search again from the start
    while (index_ + 1 < p.size() && p[index_ + 1].first <= t) ++index_;
    if (index_ + 1 >= p.size()) return p.back().second * scale_;
    const auto& [t0, v0] = p[index_];
    const auto& [t1, v1] = p[index_ + 1];
    if (t <= t0) return v0 * scale_;
    return (v0 + (v1 - v0) * (t - t0) / (t1 - t0)) * scale_;
  }

 private:
  std::shared_ptr<const std::vector<std::pair<double, double>>> points_;
  double scale_;
  bool repeat_;
  std::size_t index_ = 0;
};

// CSV traces: "t,value" rows (a header line is allowed), t in seconds, strictly increasing.
// Hand-written because Debian has no maintained C++ CSV library; the format is two numbers a line.
std::shared_ptr<const std::vector<std::pair<double, double>>> parse_trace(const ConfigNode& where,
                                                                            const std::string& path,
                                                                            const std::string& text);

// A trace used by many events (or many runs in one process) is read and parsed once: keyed by
// path, size and modification time, so an edited trace is read again.
std::shared_ptr<const std::vector<std::pair<double, double>>> read_trace(const ConfigNode& where,
                                                                           const std::string& path) {
  struct Cached {
    std::uintmax_t size;
    std::filesystem::file_time_type mtime;
    std::shared_ptr<const std::vector<std::pair<double, double>>> points;
  };
  static thread_local std::map<std::string, Cached> cache;
  std::error_code ec1, ec2;
  const auto size = std::filesystem::file_size(path, ec1);
  const auto mtime = std::filesystem::last_write_time(path, ec2);
  if (!ec1 && !ec2)
    if (auto it = cache.find(path); it != cache.end() && it->second.size == size && it->second.mtime == mtime)
      return it->second.points;
  constexpr std::size_t kMaxBytes = 64u << 20;
  std::string text;
  try {
    text = read_regular_file(path, kMaxBytes, "CSV profile");
  } catch (const ConfigError& e) {
    where.fail(e.what());
  }
  auto points = parse_trace(where, path, text);
  if (!ec1 && !ec2) {
    if (cache.size() > 64) cache.clear();  // bounded: a long-lived process reading many traces
    cache[path] = Cached{size, mtime, points};
  }
  return points;
}

std::shared_ptr<const std::vector<std::pair<double, double>>> parse_trace(const ConfigNode& where,
                                                                            const std::string& path,
                                                                            const std::string& text) {
  std::istringstream in(text);
  auto points = std::make_shared<std::vector<std::pair<double, double>>>();
  std::string line;
  long line_no = 0;
  constexpr std::size_t kMaxPoints = 50'000'000;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.size() > 4096) throw ConfigError(path + ":" + std::to_string(line_no) + ":1: line longer than 4096 characters");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto comma = line.find(',');
    auto t = comma == std::string::npos ? std::nullopt : parse_finite_number(line.substr(0, comma));
    auto v = comma == std::string::npos ? std::nullopt : parse_finite_number(line.substr(comma + 1));
    if (!t || !v) {
      if (line_no == 1) continue;  // header
      throw ConfigError(path + ":" + std::to_string(line_no) + ":1: expected 't,value' with finite numbers");
    }
    if (!points->empty() && *t <= points->back().first)
      throw ConfigError(path + ":" + std::to_string(line_no) + ":1: time must increase");
    if (points->size() >= kMaxPoints) throw ConfigError(path + ":" + std::to_string(line_no) + ":1: too many rows");
    points->emplace_back(*t, *v);
  }
  if (points->empty()) where.fail("CSV profile '" + path + "' has no data rows");
  return points;
}

}  // namespace

std::unique_ptr<Profile> make_ai_training_profile(const AiTrainingShape& shape, std::uint64_t seed) {
  return std::make_unique<AiTrainingProfile>(shape, seed);
}


ProfileFactory parse_profile(const ConfigNode& node, const std::string& unit, const std::string& base_dir,
                             std::vector<std::string>* files_read, PhysicalRange range) {
  auto in_range = [&](const ConfigNode& at, double v, const std::string& what) {
    if (!(v >= range.lo && v <= range.hi))
      at.fail(what + " is outside the physical range: must be " + range_text(range.lo, range.hi, unit));
  };
  if (!node.has("profile") && node.has("ramp")) {
    ConfigNode r = node["ramp"];
    r.expect_keys({"to", "over"});
    double to = r.require("to").as_quantity_in(unit, range.lo, range.hi);
    double over = to_seconds(r.require("over").as_duration());
    return [to, over](const ProfileContext& c) { return std::make_unique<RampProfile>(c.initial_value, to, over); };
  }
  ConfigNode p = node.require("profile");
  const std::string kind = p.as_string();
  if (kind == "diurnal") {
    node.expect_keys({"device", "profile", "min", "max", "peak_at", "noise", "noise_interval"});
    double lo = node.require("min").as_quantity_in(unit, range.lo, range.hi);
    double hi = node.require("max").as_quantity_in(unit, range.lo, range.hi);
    if (hi < lo) node["max"].fail("max must be >= min");
    double peak = node.require("peak_at").as_time_of_day();
    double noise = node.get_quantity_in("noise", "1", 0.0, 0.0, 0.5);
    // The noise multiplies the value: its extremes must stay in range too.
    in_range(node.has("noise") ? node["noise"] : node["min"], lo * (1 - noise), "min * (1 - noise)");
    in_range(node.has("noise") ? node["noise"] : node["max"], hi * (1 + noise), "max * (1 + noise)");
    double interval = node.has("noise_interval") ? to_seconds(node["noise_interval"].as_duration()) : 60.0;
    if (interval < 1e-3) node["noise_interval"].fail("must be at least 1 ms");
    return [=](const ProfileContext& c) {
      return std::make_unique<DiurnalProfile>(lo, hi, peak, c.start_time_of_day_s, noise, interval, c.seed);
    };
  }
  if (kind == "ai_training") {
    node.expect_keys({"device", "profile", "level", "swing", "period", "duty", "ramp", "checkpoint",
                      "idle", "job_start", "job_stop", "job_ramp"});
    AiTrainingShape s;
    s.level_w = node.require("level").as_quantity_in(unit, range.lo, range.hi);
    s.swing = node.require("swing").as_quantity("1");
    if (s.swing < 0 || s.swing > 1) node["swing"].fail("swing must be between 0 and 100 %");
    in_range(node["swing"], s.level_w * (1 + s.swing), "the peak, level * (1 + swing),");
    ConfigNode period = node.require("period");
    if (period.is_sequence()) {
      auto items = period.items();
      if (items.size() != 2) period.fail("period range is [min, max]");
      s.period_min_s = to_seconds(items[0].as_duration());
      s.period_max_s = to_seconds(items[1].as_duration());
    } else {
      s.period_min_s = s.period_max_s = to_seconds(period.as_duration());
    }
    if (s.period_min_s < 1e-3 || s.period_max_s < s.period_min_s) period.fail("need 1 ms <= min <= max");
    s.duty = node.get_quantity("duty", "1", 0.5);
    if (s.duty <= 0 || s.duty >= 1) node["duty"].fail("duty must be between 0 and 100 % exclusive");
    s.ramp_s = node.has("ramp") ? to_seconds(node["ramp"].as_duration()) : 0.1;
    if (s.checkpoint_every_s < 0) node.fail("checkpoint interval must be positive");
    s.idle_level = node.get_quantity_in("idle", "1", 0.2, 0, 1);
    s.job_start_s = node.has("job_start") ? to_seconds(node["job_start"].as_duration()) : 0;
    s.job_stop_s = node.has("job_stop") ? to_seconds(node["job_stop"].as_duration()) : -1;
    s.job_ramp_s = node.has("job_ramp") ? to_seconds(node["job_ramp"].as_duration()) : 0;
    if (s.job_start_s < 0) node["job_start"].fail("job_start must be >= 0");
    if (node.has("job_stop") && s.job_stop_s <= s.job_start_s) node["job_stop"].fail("job_stop must be after job_start");
    if (s.job_ramp_s < 0) node["job_ramp"].fail("job_ramp must be >= 0");
    if (s.ramp_s < 0) node["ramp"].fail("ramp must be >= 0");
    if (ConfigNode cp = node["checkpoint"]; cp.defined()) {
      cp.expect_keys({"every", "duration", "level"});
      s.checkpoint_every_s = to_seconds(cp.require("every").as_duration());
      s.checkpoint_duration_s = to_seconds(cp.require("duration").as_duration());
      s.checkpoint_level = cp.get_quantity_in("level", "1", 0.3, 0, 1);
      if (s.checkpoint_every_s <= s.checkpoint_duration_s) cp.fail("checkpoint duration must be shorter than its interval");
    }
    return [s](const ProfileContext& c) { return make_ai_training_profile(s, c.seed); };
  }
  if (kind == "csv") {
    node.expect_keys({"device", "profile", "file", "scale", "repeat"});
    ConfigNode f = node.require("file");
    std::string path = f.as_string();
    if (!path.empty() && path[0] != '/') path = base_dir + "/" + path;
    auto points = read_trace(f, path);
    if (files_read) files_read->push_back(path);
    double scale = node.get_number("scale", 1.0);
    bool repeat = node.get_bool("repeat", false);
    for (const auto& [t, v] : *points)
      if (!(v * scale >= range.lo && v * scale <= range.hi)) {
        char at[64];
        std::snprintf(at, sizeof at, "%g", t);
        f.fail("CSV profile '" + path + "': the value at t = " + at + " s (times scale " + std::to_string(scale) +
               ") is outside the physical range: must be " + range_text(range.lo, range.hi, unit));
      }
    return [points, scale, repeat](const ProfileContext&) { return std::make_unique<CsvProfile>(points, scale, repeat); };
  }
  if (kind == "constant") {
    node.expect_keys({"device", "profile", "value"});
    double v = node.require("value").as_quantity_in(unit, range.lo, range.hi);
    return [v](const ProfileContext&) { return std::make_unique<ConstantProfile>(v); };
  }
  p.fail("unknown profile '" + kind + "' (constant, diurnal, ai_training, csv)");
}

}  // namespace zhil
