#include "lab/acceptance/acceptance_gate.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness/config/config_error.hpp"
#include "harness/config/regular_file.hpp"
#include "harness/recording/sha256.hpp"
#include "lab/acceptance/limit_set.hpp"
#include "lab/acceptance/sequence_expansion.hpp"
#include "lab/process_signals.hpp"
#include "lab/project_paths.hpp"
#include "lab/results/results_sink.hpp"
#include "lab/scenario_runner.hpp"

namespace zhil::lab {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

constexpr int kShip = 0, kNoShip = 1, kUndecided = 2;

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// How a measurement broke its limits, for people: "capacity = 131.2 kWh, below its low limit 140 kWh".
std::string failure_text(const MeasurementResult& m) {
  std::string unit = m.unit;
  double scale = 1;
  if (unit == "Wh") unit = "kWh", scale = 1e-3;  // acceptance energies read in kWh
  const auto show = [&](double v) { return number(v * scale) + " " + unit; };
  if (!m.value) return m.name + ": no value (the pack never responded in its window)";
  std::string t = m.name + " = " + show(*m.value);
  if (m.low && *m.value < *m.low) t += ", below its low limit " + show(*m.low);
  else if (m.high && *m.value > *m.high) t += ", above its high limit " + show(*m.high);
  return t;
}

// The part of the run's record that concerns one DUT: its own and the bench-level checks and
// measurements, its verdict.
TestRecord record_of(const TestRecord& r, const DutRef& dut, const std::vector<DutRef>& duts, const std::string& verdict) {
  TestRecord o = r;
  o.dut_serial = dut.serial;
  o.checks.clear();
  o.measurements.clear();
  for (const auto& c : r.checks) {
    const std::string owner = dut_of_signal(c.condition, duts);
    if (owner.empty() || owner == dut.serial) o.checks.push_back(c);
  }
  for (const auto& m : r.measurements) {
    const std::string owner = dut_of_signal(m.signal, duts);
    if (owner.empty() || owner == dut.serial) o.measurements.push_back(m);
  }
  o.verdict = verdict == "PASS" ? Verdict::pass : verdict == "FAIL" ? Verdict::fail
            : verdict == "ABORTED" ? Verdict::aborted : Verdict::error;
  return o;
}

// A new attempt folder for a serial: attempt-1, attempt-2, ... (created atomically: two gates on
// the same serial at once get different ones).
fs::path claim_attempt(const fs::path& serial_dir, int* number) {
  fs::create_directories(serial_dir);
  for (int k = 1; k < 100000; ++k) {
    const fs::path p = serial_dir / ("attempt-" + std::to_string(k));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      *number = k;
      return p;
    }
    if (ec) throw std::runtime_error(p.string() + ": cannot be created: " + ec.message());
  }
  throw std::runtime_error(serial_dir.string() + ": too many attempts");
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw std::runtime_error(p.string() + ": cannot be written");
}



}  // namespace

// Does the identity a pack reported name this serial? Its words (space or comma separated) are
// compared whole with the serial. A number is a serial only as the identity's first word (zhil's
// HV CAN map sends the serial as a number, first, then the firmware: "1 2" for ZH-BENCH-0001 at
// firmware 2); there it must equal the serial's trailing digits. A firmware or model number
// elsewhere never matches.
bool identity_names_serial(const std::string& identity, const std::string& serial) {
  std::string digits;
  for (auto it = serial.rbegin(); it != serial.rend() && std::isdigit(static_cast<unsigned char>(*it)); ++it)
    digits.insert(digits.begin(), *it);
  std::vector<std::string> words;
  std::istringstream in(identity);
  for (std::string token; in >> token;) {
    std::istringstream parts(token);
    for (std::string word; std::getline(parts, word, ',');)
      if (!word.empty()) words.push_back(word);
  }
  for (const auto& w : words)
    if (w == serial) return true;
  const auto numeric = [](const std::string& w) {
    return !w.empty() && w.size() < 19 && w.find_first_not_of("0123456789") == std::string::npos;
  };
  return !words.empty() && numeric(words[0]) && numeric(digits) && std::stoull(words[0]) == std::stoull(digits);
}

int list_products(const std::string& root) {
  std::vector<std::string> broken;
  const auto products = find_products(root, &broken);
  std::printf("products (%s/fixtures/limits):\n", root.c_str());
  for (const auto& [name, s] : products)
    std::printf("  %-20s limit set %s version %s  %s\n", name.c_str(), s.name.c_str(), s.version.c_str(),
                s.description.c_str());
  for (const auto& b : broken) std::printf("  INVALID: %s\n", b.c_str());
  return broken.empty() ? 0 : 2;
}

int run_acceptance(const AcceptRequest& rq) {
  const std::string root = find_project_root();
  auto undecided = [](const std::string& why) {
    std::cerr << "zhil accept: " << why << "\n";
    std::cout << "COULD NOT DECIDE: " << why << "\n";
    return kUndecided;
  };
  // What is asked: a product with a limit set, one serial per pack of the station.
  LimitSet ls;
  std::string station_file;
  StationConfig station;
  std::vector<std::string> packs;
  std::string sequence_text, station_text;
  try {
    std::vector<std::string> broken;
    const auto products = find_products(root, &broken);
    auto it = products.find(rq.product);
    if (it == products.end()) {
      std::string known;
      for (const auto& [n, s] : products) known += (known.empty() ? "" : ", ") + n;
      std::string why = "no limit set for product '" + rq.product + "' in " + root + "/fixtures/limits (products: " +
                        (known.empty() ? "none" : known) + ")";
      for (const auto& b : broken) why += "\n  " + b;
      return undecided(why);
    }
    ls = it->second;
    station_file = rq.station_file.empty() ? ls.station_file : rq.station_file;
    station = load_station(station_file);
    station_text = read_regular_file(station_file, 16u << 20, "station file");
    for (const DeviceConfig* d : station.with_role("pack")) packs.push_back(d->name);
    if (rq.serials.size() != packs.size())
      return undecided("station " + station.name + " has " + std::to_string(packs.size()) + " pack(s) but " +
                       std::to_string(rq.serials.size()) + " serial(s) were given: one serial per pack, in the order " +
                       "of the station's packs");
    std::set<std::string> seen;
    for (const std::string& s : rq.serials) {
      if (s.empty() || s.find_first_of("/\\\n\r\t ,") != std::string::npos || s == "." || s == ".." || s == "runs")
        return undecided("serial '" + s + "' is not a serial number (no spaces, slashes or commas)");
      if (!seen.insert(s).second) return undecided("serial " + s + " given twice");
    }
    sequence_text = expand_sequence(ls.sequence_file, packs, ls);
  } catch (const std::exception& e) {
    return undecided(e.what());
  }

  std::vector<DutRef> duts;
  for (std::size_t k = 0; k < packs.size(); ++k) {
    duts.push_back({rq.serials[k], packs[k], ls.product});
    // An inverter that serves this pack alone speaks of it: its failures are this pack's.
    for (const DeviceConfig* inv : station.with_role("inverter"))
      if (inv->packs.size() == 1 && inv->packs[0] == packs[k]) duts.back().devices.push_back(inv->name);
  }
  std::string serial_list;
  for (const auto& s : rq.serials) serial_list += (serial_list.empty() ? "" : ",") + s;

  // The run: its folder first (the expanded sequence is run from there), then prepared.
  std::shared_ptr<OutputFolder> folder;
  try {
    fs::create_directories(fs::path(rq.out_dir) / "runs");
    folder = claim_new_folder((fs::path(rq.out_dir) / "runs" / utc_stamp()).string());
    if (Status s = folder->replace("scenario.yaml", sequence_text); !s) throw std::runtime_error(s.message());
  } catch (const std::exception& e) {
    return undecided(e.what());
  }
  const fs::path run_dir = folder->path();
  PrepareRequest pr;
  pr.scenario_file = folder->file("scenario.yaml");
  pr.station_file = station_file;
  pr.seed = rq.seed;
  pr.limits = rq.limits;
  // Simulated time on a simulated bench; real time as soon as the station drives a real device.
  bool real_device = false;
  for (const DeviceConfig& d : station.devices) real_device = real_device || !is_simulator_model(d.model);
  pr.options.real_time = rq.real_time || real_device;
  pr.options.path_base = root;
  pr.options.show_progress = rq.show_progress;
  pr.options.pending_signal = pending_process_signal;
  pr.options.dut_serial = serial_list;
  pr.options.metadata = {{"product", ls.product}, {"limit_set", ls.name}, {"limit_set_version", ls.version},
                         {"limit_set_file", ls.file}, {"limit_set_sha256", ls.sha256}};
  // A simulated pack is the pack under test: it reports the serial given, unless the station fixes
  // one (then it must match, as a real pack's must).
  pr.adjust_station = [&](StationConfig& st) {
    std::size_t k = 0;
    for (DeviceConfig& d : st.devices) {
      if (d.role != "pack") continue;
      const std::string serial = rq.serials[k++];
      if (d.model != "pack-simulator" || d.params.has("serial")) continue;
      // A copy: packs made by one `count:` entry share its params node.
      YAML::Node n = d.params.defined() ? YAML::Clone(d.params.yaml()) : YAML::Node(YAML::NodeType::Map);
      n["serial"] = serial;
      d.params = ConfigNode(n, std::make_shared<const std::string>(d.entry.file()),
                            d.params.defined() ? d.params.path() : d.entry.path() + ".params");
    }
  };
  // Comms and identity, once the devices are up and before the first cycle: a pack that is not
  // the serial given stops the gate at once.
  std::vector<std::string> identities(packs.size());
  std::string identity_error;
  Run* run = nullptr;
  Bench* bench = nullptr;
  pr.options.on_started = [&](const std::string&) {
    for (std::size_t k = 0; k < packs.size(); ++k) {
      for (const auto& d : bench->devices)
        if (d->name() == packs[k]) identities[k] = d->identity();
      if (!identity_names_serial(identities[k], rq.serials[k]) && identity_error.empty())
        identity_error = "serial mismatch: " + packs[k] + " reports '" + identities[k] + "', the gate was given " +
                         rq.serials[k];
    }
    if (!identity_error.empty()) run->request_stop(Verdict::error, identity_error, StopCause::host);
  };
  std::unique_ptr<PreparedRun> prepared;
  try {
    prepared = prepare_run(pr);
  } catch (const std::exception& e) {
    return undecided(e.what());
  }
  run = prepared->run.get();
  bench = &prepared->bench;
  std::shared_ptr<ResultsSink> results;
  if (!rq.results_db.empty()) {
    RunContext ctx{"accept", run_dir.string(), duts, ls.product, ls.name, ls.version, ls.sha256};
    try {
      results = std::make_shared<ResultsSink>(rq.results_db, ctx);
    } catch (const std::exception& e) {
      return undecided(e.what());
    }
    prepared->run->add_sink(results);
  }
  prepared->run->set_output(folder);
  std::cout << "accept " << ls.product << " (limit set " << ls.name << " version " << ls.version << "): " << serial_list
            << " on " << station.name << ", run in " << run_dir.string() << std::endl;
  RunResult result;
  try {
    result = prepared->run->run_to_end();
  } catch (const std::exception& e) {
    return undecided(e.what());
  }
  const TestRecord& rec = result.record;
  const std::vector<std::string> verdicts = dut_verdicts(rec, duts);

  // Per serial: its decision and its bundle.
  int exit = kShip;
  std::map<std::string, std::string> hashes{{"station", sha256_hex(station_text)},
                                            {"sequence_template", ls.sequence_sha256},
                                            {"sequence", sha256_hex(sequence_text)},
                                            {"limit_set", ls.sha256}};
  for (std::size_t k = 0; k < duts.size(); ++k) {
    const DutRef& dut = duts[k];
    const std::string& v = verdicts[k];
    const TestRecord own = record_of(rec, dut, duts, v);
    std::vector<std::string> failing;
    json failing_json = json::array();
    bool marginal = false;
    for (const auto& m : own.measurements) {
      marginal = marginal || m.marginal;
      if (m.outcome != "FAIL") continue;
      failing.push_back("measurement " + failure_text(m) + " (limit set " + ls.name + " v" + ls.version + ")");
      failing_json.push_back({{"measurement", m.name}, {"value", m.value ? json(*m.value) : json()}, {"unit", m.unit},
                              {"low", m.low ? json(*m.low) : json()}, {"high", m.high ? json(*m.high) : json()}});
    }
    for (const auto& c : own.checks) {
      if (c.outcome != CheckOutcome::fail) continue;
      std::string t = "check " + c.name + " (" + c.condition + ")";
      if (c.evidence) t += " failed at t=" + number(c.evidence->t_s) + " s";
      failing.push_back(t);
      failing_json.push_back({{"check", c.name}, {"condition", c.condition},
                              {"t_s", c.evidence ? json(c.evidence->t_s) : json()}});
    }
    const bool decided = v == "PASS" || v == "FAIL";
    const std::string decision = !decided ? "COULD NOT DECIDE" : v == "PASS" ? "SHIP" : "NO-SHIP";
    if (!decided) exit = kUndecided;
    else if (v == "FAIL" && exit == kShip) exit = kNoShip;
    std::string bundle_note;
    try {
      int attempt = 0;
      const fs::path dir = claim_attempt(fs::path(rq.out_dir) / dut.serial, &attempt);
      write_file(dir / "record.json", record_json_text(own));
      write_file(dir / "junit.xml", junit_xml_text(own));
      write_file(dir / "scenario.yaml", sequence_text);
      // The limit set and station as they were read when the gate started (the hashes are of
      // these bytes), not as the files may be now.
      write_file(dir / "limits.yaml", ls.text);
      write_file(dir / "station.yaml", station_text);
      for (const auto& e : fs::directory_iterator(run_dir)) {
        const std::string name = e.path().filename().string();
        if (name == "timeseries.csv" || e.path().extension() == ".log")
          fs::copy_file(e.path(), dir / name);  // a copy: the evidence does not change with the run folder
      }
      json ev;
      ev["serial"] = dut.serial;
      ev["product"] = ls.product;
      ev["decision"] = decision;
      ev["verdict"] = v;
      ev["marginal"] = marginal;
      ev["attempt"] = attempt;
      ev["position"] = dut.position;
      ev["identity_read"] = identities[k];
      ev["failing"] = failing_json;
      ev["error"] = decided ? json() : json(rec.error);
      ev["run"] = {{"id", rec.run_id}, {"folder", run_dir.string()}, {"verdict", to_string(rec.verdict)}};
      ev["limit_set"] = {{"name", ls.name}, {"version", ls.version}, {"file", ls.file}, {"sha256", ls.sha256}};
      json h = json::object();
      for (const auto& [n, sha] : hashes) h[n] = sha;
      for (const auto& [f, sha] : rec.inputs) h["input:" + f] = sha;
      for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file()) h["bundle:" + e.path().filename().string()] = sha256_file_hex(e.path().string());
      ev["sha256"] = h;
      write_file(dir / "evidence.json", ev.dump(2) + "\n");
      bundle_note = dir.string();
    } catch (const std::exception& e) {
      // Evidence that could not be kept: the pack cannot ship on it.
      exit = kUndecided;
      bundle_note = std::string("NOT WRITTEN: ") + e.what();
    }
    std::cout << decision << (decision == "SHIP" && marginal ? " (marginal)" : "") << "  " << dut.serial << "  ("
              << dut.position << ")  evidence: " << bundle_note << "\n";
    for (const auto& f : failing) std::cout << "    " << f << "\n";
    for (const auto& m : own.measurements)
      if (m.marginal) std::cout << "    marginal: " << failure_text(m) << " (inside its limits, outside the marginal band)\n";
    if (!decided) std::cout << "    reason: " << rec.error << "\n";
  }
  if (results) std::cout << "results store: " << results->shown_location() << " (run " << rec.run_id << ")\n";
  return exit;
}

}  // namespace zhil::lab
