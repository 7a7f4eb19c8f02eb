#include "harness/recording/test_record.hpp"

#include <cmath>
#include <chrono>
#include <ctime>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace zhil {
namespace {

using json = nlohmann::ordered_json;

json number_or_null(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

json evidence_json(const std::optional<Evidence>& e) {
  if (!e) return nullptr;
  json values = json::object();
  for (const auto& [n, v] : e->values) values[n] = std::isfinite(v) ? json(v) : json(nullptr);
  return json{{"t", e->t_s}, {"what", e->what}, {"values", values}};
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += ' ';
        else out += c;
    }
  }
  return out;
}

}  // namespace

std::string utc_timestamp() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string record_json_text(const TestRecord& r, bool running) {
  json j;
  j["schema"] = "zhil.record/1";
  j["run"] = {{"id", r.run_id},
              {"started_utc", r.started_utc},
              {"ended_utc", r.ended_utc},
              {"wall_seconds", r.wall_seconds},
              {"speed_x_real_time", r.speed_x}};
  if (r.resumptions > 0) j["run"]["resumptions"] = r.resumptions;
  if (r.real_time)
    j["run"]["real_time"] = {{"overruns", r.overruns}, {"skipped_cycles", r.rt_skipped},
                             {"late_device_io", r.late_device_io},
                             {"start_latency_p50_us", r.rt_p50_us}, {"start_latency_p99_us", r.rt_p99_us},
                             {"start_latency_max_us", r.rt_max_us}, {"max_cycle_work_us", r.rt_max_work_us},
                             {"completion_p50_us", r.rt_completion_p50_us},
                             {"completion_p99_us", r.rt_completion_p99_us},
                             {"completion_max_us", r.rt_completion_max_us}, {"tuning", r.rt_tuning}};
  j["verdict"] = running ? "RUNNING" : to_string(r.verdict);
  j["error"] = r.error.empty() ? json(nullptr) : json(r.error);
  j["software"] = {{"name", "zhil"}, {"version", r.software_version}};
  j["mode"] = r.real_time ? "real-time" : "simulated";
  j["seed"] = r.seed;
  j["station"] = {{"name", r.station_name}, {"file", r.station_file}, {"sha256", r.station_sha256}};
  j["scenario"] = {{"name", r.scenario_name}, {"file", r.scenario_file}, {"sha256", r.scenario_sha256}};
  j["core"] = r.core;
  json inputs = json::array();
  for (const auto& [file, sha] : r.inputs) inputs.push_back({{"file", file}, {"sha256", sha}});
  j["inputs"] = inputs;
  json devices = json::array();
  json dut = json::array();
  for (const auto& d : r.devices) {
    devices.push_back({{"name", d.name}, {"role", d.role}, {"model", d.model}, {"link", d.link},
                       {"identity", d.identity}, {"final_state", d.state},
                       {"watchdog_s", d.watchdog_s > 0 ? json(d.watchdog_s) : json(nullptr)}});
    if (!d.io.empty()) {
      json io = json::object();
      for (const auto& [kind, n] : d.io) io[kind] = n;
      devices.back()["io"] = io;
    }
    if (d.role == "pack") dut.push_back({{"device", d.name}, {"serial", d.identity}});
  }
  j["dut"] = dut;
  // The serial the operator says is under test (zhil run --dut-serial, pytest --dut-serial), beside
  // what the packs report.
  j["dut_serial"] = r.dut_serial.empty() ? json(nullptr) : json(r.dut_serial);
  if (!r.metadata.empty()) {
    json md = json::object();
    for (const auto& [k, v] : r.metadata) md[k] = v;
    j["metadata"] = md;
  }
  j["devices"] = devices;
  j["time"] = {{"start_s", 0.0}, {"end_s", r.end_s}, {"duration_s", r.duration_s}, {"cycle_s", r.cycle_s},
               {"cycles", r.cycles}, {"overruns", r.overruns}, {"late_device_io", r.late_device_io}};
  json checks = json::array();
  for (const auto& c : r.checks)
    checks.push_back({{"name", c.name}, {"kind", c.kind}, {"condition", c.condition}, {"verdict", to_string(c.outcome)},
                      {"evidence", evidence_json(c.evidence)}, {"defined_at", c.where}});
  j["checks"] = checks;
  json ms = json::array();
  for (const auto& m : r.measurements) {
    ms.push_back({{"name", m.name}, {"signal", m.signal}, {"aggregate", m.aggregate}, {"value", number_or_null(m.value)},
                  {"unit", m.unit}, {"low", number_or_null(m.low)}, {"high", number_or_null(m.high)},
                  {"verdict", m.outcome}, {"defined_at", m.where}});
    if (m.marginal_low || m.marginal_high) {
      ms.back()["marginal_low"] = number_or_null(m.marginal_low);
      ms.back()["marginal_high"] = number_or_null(m.marginal_high);
      ms.back()["marginal"] = m.marginal;
    }
  }
  j["measurements"] = ms;
  json safe = json::array();
  for (const auto& s : r.safe_state)
    safe.push_back({{"device", s.device}, {"commanded", s.commanded}, {"verified", s.verified}, {"detail", s.detail}});
  j["safe_state"] = safe;
  j["envelope_interventions"] = r.envelope_interventions;
  json events = json::array();
  for (const auto& e : r.events) events.push_back({{"t", e.t_s}, {"what", e.what}});
  j["events"] = events;
  j["events_dropped"] = r.events_dropped;
  j["timeseries"] = {{"file", r.timeseries_file}, {"rows", r.timeseries_rows}, {"columns", r.timeseries_columns}};
  // Replace rather than throw on invalid UTF-8 in a name: the record must always be written.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string junit_xml_text(const TestRecord& r) {
  std::size_t failures = 0, errors = 0;
  for (const auto& c : r.checks) failures += c.outcome == CheckOutcome::fail;
  for (const auto& m : r.measurements) failures += m.outcome == "FAIL";
  if (r.verdict == Verdict::error || r.verdict == Verdict::aborted) errors = 1;
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuite name=\"" << xml_escape(r.scenario_name) << "\" tests=\""
    << r.checks.size() + r.measurements.size() + errors << "\" failures=\"" << failures << "\" errors=\"" << errors
    << "\" time=\"" << r.end_s << "\">\n";
  x << "  <properties><property name=\"station\" value=\"" << xml_escape(r.station_name)
    << "\"/><property name=\"seed\" value=\"" << r.seed << "\"/><property name=\"verdict\" value=\""
    << to_string(r.verdict) << "\"/>";
  if (!r.dut_serial.empty()) x << "<property name=\"dut_serial\" value=\"" << xml_escape(r.dut_serial) << "\"/>";
  for (const auto& [k, v] : r.metadata)
    x << "<property name=\"" << xml_escape(k) << "\" value=\"" << xml_escape(v) << "\"/>";
  x << "</properties>\n";
  const std::string cls = "zhil." + xml_escape(r.scenario_name);
  for (const auto& c : r.checks) {
    x << "  <testcase classname=\"" << cls << "\" name=\"" << xml_escape(c.name) << "\">";
    if (c.outcome == CheckOutcome::fail) {
      std::ostringstream msg;
      msg << c.kind << " " << c.condition;
      if (c.evidence) {
        msg << " violated at t=" << c.evidence->t_s << " s (" << c.evidence->what << ")";
        for (const auto& [n, v] : c.evidence->values) msg << " " << n << "=" << v;
      }
      x << "<failure message=\"" << xml_escape(msg.str()) << "\"/>";
    } else if (c.outcome == CheckOutcome::incomplete) {
      x << "<skipped message=\"run ended before the check's window\"/>";
    }
    x << "</testcase>\n";
  }
  for (const auto& m : r.measurements) {
    x << "  <testcase classname=\"" << cls << "\" name=\"" << xml_escape(m.name) << "\">";
    if (m.outcome == "FAIL") {
      std::ostringstream msg;
      msg << m.aggregate << " of " << m.signal << " = " << (m.value ? *m.value : NAN) << " " << m.unit
          << " outside [" << (m.low ? std::to_string(*m.low) : "-") << ", " << (m.high ? std::to_string(*m.high) : "-")
          << "]";
      x << "<failure message=\"" << xml_escape(msg.str()) << "\"/>";
    } else if (m.outcome == "INCOMPLETE") {
      x << "<skipped message=\"not measured\"/>";
    }
    x << "</testcase>\n";
  }
  if (errors)
    x << "  <testcase classname=\"" << cls << "\" name=\"run\"><error message=\"" << to_string(r.verdict) << ": "
      << xml_escape(r.error) << "\"/></testcase>\n";
  x << "</testsuite>\n";
  return x.str();
}

}  // namespace zhil

namespace zhil {

Status RecordWriter::write_running(const TestRecord& record) {
  try {
    return folder_->replace("record.json", record_json_text(record, true));
  } catch (const std::exception& e) {
    return Status::error(std::string("record not written: ") + e.what());
  }
}

Status RecordWriter::on_finished(TestRecord& record) {
  try {
    // junit.xml first: record.json is the one that says the run is over, and says so even when
    // junit.xml could not be written.
    Status j = folder_->replace("junit.xml", junit_xml_text(record));
    if (!j) {
      record.verdict = Verdict::error;
      record.error = (record.error.empty() ? "" : record.error + "; ") + j.message();
    }
    Status s = folder_->replace("record.json", record_json_text(record));
    if (!s) return Status::error("record not written: " + s.message());
    written_ = true;
    return j;
  } catch (const std::exception& e) {
    return Status::error(std::string("record not written: ") + e.what());
  }
}

}  // namespace zhil
