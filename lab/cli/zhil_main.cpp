// The zhil command line: run a scenario, run a suite, list scenarios and stations, validate files.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "harness/config/config_node.hpp"
#include "harness/config/station_config.hpp"
#include "harness/control_core.hpp"
#include "harness/device_registry.hpp"
#include "harness/link.hpp"
#include "harness/scenario/scenario.hpp"
#include "devices/station_builder.hpp"
#include "harness/config/config_error.hpp"
#include "lab/plugins.hpp"
#include "lab/process_signals.hpp"
#include "lab/run_preparation.hpp"
#include "lab/project_paths.hpp"
#include "lab/reports/spc_command.hpp"
#include "lab/reports/summary_report.hpp"
#include "lab/resume_run.hpp"
#include "lab/scenario_runner.hpp"
#include "harness/config/units.hpp"
#include "lab/can_tools.hpp"
#include "lab/results/results_commands.hpp"
#include "lab/acceptance/acceptance_gate.hpp"
#include "lab/simulator_server.hpp"
#include "lab/suite_runner.hpp"

namespace fs = std::filesystem;
using namespace zhil;

namespace {

struct RunFlags {
  std::string station, out;
  std::string db, dut_serial;
  bool no_db = false;
  bool realtime = false, overwrite = false;
  std::optional<std::uint64_t> seed;
  lab::ResourceLimits limits;
  std::string checkpoint_every;  // "1 h", "600 s"; empty: none
  std::string serve, serve_token;
  std::vector<std::string> serve_signals;
};

int report_run(const std::string& command, const std::string& scenario, const lab::ScenarioRunOutcome& o);

int cmd_run(const std::string& scenario, const RunFlags& f) {
  lab::ScenarioRunRequest r;
  r.scenario_file = scenario;
  r.station_file = f.station;
  r.real_time = f.realtime;
  r.seed = f.seed;
  r.out_dir = f.out;
  r.overwrite = f.overwrite;
  r.limits = f.limits;
  r.show_progress = isatty(STDERR_FILENO);
  r.announce_start = true;
  r.results_db = f.no_db ? "" : f.db;
  r.dut_serial = f.dut_serial;
  r.serve = f.serve;
  r.serve_token = f.serve_token;
  r.serve_signals = f.serve_signals;
  if (!f.checkpoint_every.empty()) {
    const QuantityParse q = parse_quantity(f.checkpoint_every, "s");
    if (!q.value || *q.value <= 0) {
      std::cerr << "zhil run: --checkpoint-every " << f.checkpoint_every << ": "
                << (q.value ? "must be longer than 0 s" : q.error) << "\n";
      return exit_code(Verdict::error);
    }
    if (r.results_db.empty()) {
      std::cerr << "zhil run: --checkpoint-every keeps the checkpoints in the results store: it cannot go with --no-db\n";
      return exit_code(Verdict::error);
    }
    r.checkpoint_every = from_seconds(*q.value);
  }
  return report_run("run", scenario, lab::run_scenario(r));
}

int cmd_resume(const std::string& run_id, const RunFlags& f) {
  lab::ScenarioRunRequest r;
  r.limits = f.limits;
  if (Status s = lab::prepare_resume(f.db, run_id, r); !s) {
    std::cerr << "zhil resume: " << s.message() << "\n";
    return exit_code(Verdict::error);
  }
  r.show_progress = isatty(STDERR_FILENO);
  r.announce_start = true;
  std::cout << "resuming run " << r.resume->run_id << " from checkpoint " << r.resume->sequence << " at t="
            << to_seconds(r.resume->at) << " s\n";
  return report_run("resume", r.scenario_file, lab::run_scenario(r));
}

int report_run(const std::string& command, const std::string& scenario, const lab::ScenarioRunOutcome& o) {
  // Printing may fail (stdout closed: `zhil run ... | head`); the verdict and exit code stand.
  if (o.out_dir.empty()) {
    std::cerr << "zhil " << command << ": " << o.message << "\n";
    std::cout << "ERROR " << scenario << " (nothing ran)\n";
    return exit_code(Verdict::error);
  }
  const auto& rec = o.result.record;
  for (const auto& c : rec.checks) {
    std::cout << "  " << to_string(c.outcome) << "  check " << c.name;
    if (c.outcome == CheckOutcome::fail && c.evidence) {
      std::cout << " at t=" << c.evidence->t_s << " s:";
      for (const auto& [n, v] : c.evidence->values) std::cout << " " << n << "=" << v;
    }
    std::cout << "\n";
  }
  for (const auto& m : rec.measurements)
    std::cout << "  " << m.outcome << "  measure " << m.name << " = " << (m.value ? *m.value : NAN) << " " << m.unit
              << "\n";
  std::cout << to_string(o.verdict) << " " << o.scenario_name << "  (" << rec.end_s << " s simulated in "
            << rec.wall_seconds << " s, " << static_cast<long>(rec.speed_x) << "x)\n";
  if (!o.message.empty()) std::cout << "  reason: " << o.message << "\n";
  if (o.result.record_written) std::cout << "record: " << o.result.record_path << "\n";
  else std::cout << "no record written (see the reason above)\n";
  if (!o.results_store.empty()) std::cout << "results store: " << o.results_store << " (run " << o.run_id << ")\n";
  return exit_code(o.verdict);
}

int cmd_list(const std::string& root_opt) {
  const std::string root = root_opt.empty() ? lab::find_project_root() : root_opt;
  std::cout << "scenarios (" << root << "/scenarios):\n";
  std::vector<fs::path> files, suites, sequences;
  if (fs::exists(fs::path(root) / "scenarios"))
    for (const auto& e : fs::recursive_directory_iterator(fs::path(root) / "scenarios")) {
      if (e.path().extension() != ".yaml") continue;
      // A suite file says "suite:" at its top; the others are scenarios.
      // An acceptance sequence says "sequence:": a scenario only once made for a station's packs.
      bool is_suite = false, is_sequence = false;
      try {
        const ConfigNode top = ConfigNode::load_file(e.path().string());
        is_suite = top.has("suite");
        is_sequence = top.has("sequence");
      } catch (const std::exception&) {
      }
      (is_suite ? suites : is_sequence ? sequences : files).push_back(e.path());
    }
  std::sort(files.begin(), files.end());
  std::sort(suites.begin(), suites.end());
  for (const auto& f : files) {
    try {
      Scenario s = load_scenario(f.string());
      std::printf("  %-44s %-28s %s\n", fs::relative(f, root).c_str(), s.name.c_str(), s.description.c_str());
    } catch (const std::exception& e) {
      std::printf("  %-44s INVALID: %s\n", fs::relative(f, root).c_str(), e.what());
    }
  }
  std::cout << "suites:\n";
  for (const auto& f : suites) {
    try {
      const lab::SuiteFile suite = lab::load_suite(f.string());
      std::printf("  %-44s %-28s %zu scenarios\n", fs::relative(f, root).c_str(), suite.name.c_str(), suite.entries.size());
    } catch (const std::exception& e) {
      std::printf("  %-44s INVALID: %s\n", fs::relative(f, root).c_str(), e.what());
    }
  }
  std::sort(sequences.begin(), sequences.end());
  std::cout << "acceptance sequences (zhil accept; zhil list products):\n";
  for (const auto& f : sequences) std::printf("  %s\n", fs::relative(f, root).c_str());
  std::cout << "stations (" << root << "/fixtures/stations):\n";
  files.clear();
  for (const auto& e : fs::directory_iterator(fs::path(root) / "fixtures" / "stations"))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    try {
      StationConfig s = load_station(f.string());
      std::printf("  %-44s %-16s %zu devices, core %s: %s\n", fs::relative(f, root).c_str(), s.name.c_str(),
                  s.devices.size(), s.core.c_str(), s.description.c_str());
    } catch (const std::exception& e) {
      std::printf("  %-44s INVALID: %s\n", fs::relative(f, root).c_str(), e.what());
    }
  }
  std::cout << "device models:\n";
  for (const auto& m : DeviceRegistry::instance().models()) {
    const DeviceModel* d = DeviceRegistry::instance().find(m);
    std::printf("  %-24s %-9s %s\n", m.c_str(), d->role.c_str(), d->description.c_str());
  }
  std::cout << "link types:\n";
  for (const auto& t : LinkRegistry::instance().types()) std::printf("  %s\n", t.c_str());
  std::cout << "control cores:\n";
  for (const auto& c : CoreRegistry::instance().names()) std::printf("  %s\n", c.c_str());
  return 0;
}

// Validates as run would: a scenario with its station, fixtures, core and every name bound; a
// station with its fixtures and devices built; a suite with every scenario in it.
int cmd_validate(const std::vector<std::string>& files, const RunFlags& f) {
  int bad = 0;
  auto scenario = [&](const std::string& file, const std::string& label) {
    lab::PrepareRequest pr;
    pr.scenario_file = file;
    pr.station_file = f.station;
    pr.seed = f.seed;
    pr.limits = f.limits;
    pr.options.real_time = f.realtime;
    pr.options.handle_signals = false;
    try {
      auto p = lab::prepare_run(pr);
      std::cout << "ok       " << label << "  (station " << p->station.name << ", " << p->bench.devices.size()
                << " devices, " << p->run->signals().size() << " signals; output about "
                << lab::human_bytes(p->estimate.output_bytes) << ")\n";
    } catch (const std::exception& e) {
      std::cout << "INVALID  " << e.what() << "\n";
      ++bad;
    }
  };
  for (const auto& file : files) {
    try {
      // A station file has "station:", a scenario "scenario:", a suite "suite:".
      ConfigNode root = ConfigNode::load_file(file);
      if (root.has("suite")) {
        const lab::SuiteFile suite = lab::load_suite(file);
        std::cout << "ok       " << file << "  (suite " << suite.name << ", " << suite.entries.size()
                  << " scenarios)\n";
        for (const auto& e : suite.entries) scenario(e.file, "  " + e.file);
      } else if (root.has("station") && !root.has("scenario")) {
        lab::PrepareRequest pr;
        pr.station_file = file;
        pr.seed = f.seed;
        pr.limits = f.limits;
        pr.options.handle_signals = false;
        auto p = lab::prepare_station(pr);
        std::cout << "ok       " << file << "  (station " << p->station.name << ", " << p->bench.devices.size()
                  << " devices, " << p->run->signals().size() << " signals, core " << p->station.core << ")\n";
      } else {
        scenario(file, file);
      }
    } catch (const std::exception& e) {
      std::cout << "INVALID  " << e.what() << "\n";
      ++bad;
    }
  }
  return bad ? 2 : 0;
}

}  // namespace

int zhil_main(int argc, char** argv);

// Nothing escapes as std::terminate: an out-of-memory or an unexpected exception outside a run
// (a run catches its own and records them) is reported and exits 2.
int main(int argc, char** argv) {
  try {
    return zhil_main(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs("zhil: out of memory\n", stderr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zhil: %s\n", e.what());
  }
  return 2;
}

int zhil_main(int argc, char** argv) {
  lab::ignore_pipe_signals();
  CLI::App app{"zhil: hardware-in-the-loop test harness for zinc-halogen battery packs and inverters"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("zhil ") + ZHIL_VERSION);

  auto* run = app.add_subcommand("run", "run one scenario; exit 0 PASS, 1 FAIL, 2 ERROR or ABORTED");
  std::string scenario;
  RunFlags flags;
  double max_output_gb = 4.0, max_memory_gb = 4.0;
  run->add_option("scenario", scenario, "scenario YAML file")->required();
  run->add_option("--station", flags.station, "station YAML file (default: the one the scenario names)");
  run->add_flag("--realtime", flags.realtime, "run in real time (default: simulated time, as fast as possible)");
  run->add_option("--seed", flags.seed, "random seed (default: the scenario's)");
  run->add_option("--out", flags.out, "result folder (default: results/<scenario>-<time>)");
  run->add_flag("--overwrite", flags.overwrite, "replace an earlier run's results in --out");
  run->add_option("--dut-serial", flags.dut_serial, "serial number of the device under test, for the record and the store");
  run->add_option("--serve", flags.serve,
                  "serve a live view of the run at ADDRESS:PORT (127.0.0.1:8080; port 0: a free one); beyond "
                  "loopback it needs a token");
  run->add_option("--serve-token", flags.serve_token, "the live view's token (default beyond loopback: a random one)");
  run->add_option("--serve-signals", flags.serve_signals, "signals to plot live (default: those the checks read)")
      ->delimiter(',');
  run->add_option("--checkpoint-every", flags.checkpoint_every,
                  "keep the run's state in the results store this often (\"1 h\", \"600 s\" of run time), so that "
                  "zhil resume can continue it");

  auto* resume = app.add_subcommand(
      "resume", "continue a stopped run from its last checkpoint (zhil run --checkpoint-every); exit codes as run");
  std::string resume_id;
  resume->add_option("run", resume_id, "run id (or its start)")->required();

  auto* suite = app.add_subcommand("suite", "run a scenario suite on the built-in simulated station");
  std::string suite_file;
  suite->add_option("suite", suite_file, "suite file (default: scenarios/suite.yaml)");
  suite->add_option("--station", flags.station, "run every scenario on this station");
  suite->add_option("--seed", flags.seed, "random seed for every scenario");
  suite->add_option("--out", flags.out, "result folder (default: results/suite-<time>)");
  suite->add_flag("--overwrite", flags.overwrite, "replace an earlier suite's results in --out");

  auto* list = app.add_subcommand("list", "list scenarios and stations (zhil list products: the product variants)");
  std::string root, list_what;
  list->add_option("what", list_what, "products: only the product variants the gate accepts")->check(CLI::IsMember({"products"}));
  list->add_option("--root", root, "zhil checkout (default: found from here or from the program)");

  auto* validate = app.add_subcommand(
      "validate", "check scenario, station or suite files as `run` would, without running anything");
  std::vector<std::string> files;
  validate->add_option("files", files, "YAML files")->required();
  validate->add_option("--station", flags.station, "validate scenarios against this station");

  auto* results = app.add_subcommand("results", "query the results store: every run of every station");
  results->require_subcommand(1);
  results->fallthrough();  // --db after the action too: zhil results list --db X
  lab::ResultsCommand rc;
  auto* rlist = results->add_subcommand("list", "runs, newest first (a pack's history across stations: --serial)");
  auto* rshow = results->add_subcommand("show", "one run: DUTs, checks, measurements, events, artifacts");
  rshow->add_option("run", rc.run_id, "run id (or its start)")->required();
  auto* rexport = results->add_subcommand("export", "measurements of the selected runs as CSV");
  rexport->add_option("-o,--output", rc.out, "CSV file (default: standard output)");
  auto* rsummary = results->add_subcommand("summary", "runs per product, station and verdict");
  for (auto* sub : {rlist, rexport, rsummary}) {
    sub->add_option("--serial", rc.filter.serial, "runs that tested this DUT serial");
    sub->add_option("--product", rc.filter.product, "runs of this product variant");
    sub->add_option("--station", rc.filter.station, "runs on this station (its name)");
    sub->add_option("--since", rc.filter.since, "runs started on or after this date (2026-11-01, or 2026-11-01T08:00)");
    sub->add_option("--verdict", rc.filter.verdict, "PASS, FAIL, ERROR, ABORTED or RUNNING")
        ->check(CLI::IsMember({"PASS", "FAIL", "ERROR", "ABORTED", "RUNNING"}));
    sub->add_option("--kind", rc.filter.kind, "run, suite, accept or python")
        ->check(CLI::IsMember({"run", "suite", "accept", "python"}));
    sub->add_option("--scenario", rc.filter.scenario, "runs of this scenario (its name)");
  }
  rlist->add_option("--limit", rc.filter.limit, "at most this many (default 50; 0: all)");
  results->add_option("--db", rc.db, "results store: a SQLite file or a postgresql:// URI (default: $ZHIL_DB, else zhil-results/results.db)");

  auto* spc = app.add_subcommand(
      "spc", "statistical process control of one measurement across stored runs: n, mean, sigma, Cp, Cpk per station, "
             "Western Electric drift rules; a table here and control charts in HTML");
  lab::SpcRequest spc_rq;
  spc->add_option("measurement", spc_rq.measurement, "measurement name (capacity takes pack1.capacity, pack2.capacity... too)")
      ->required();
  spc->add_option("--product", spc_rq.product, "runs of this product variant");
  spc->add_option("--station", spc_rq.station, "runs on this station (its name)");
  spc->add_option("--last", spc_rq.last, "the newest N values per station (default: all)");
  spc->add_option("--subgroup", spc_rq.subgroup, "X-bar subgroup size, 2 to 10 (default 5)")->check(CLI::Range(2, 10));
  spc->add_option("--html", spc_rq.html, "chart page (default: spc-<measurement>.html here)");
  spc->add_flag("--json", spc_rq.json, "print the figures as JSON instead of the table");
  spc->add_option("--db", spc_rq.db, "results store (default: $ZHIL_DB, else zhil-results/results.db)");

  auto* report = app.add_subcommand(
      "report", "a summary across stored runs in HTML: pass rate by station and product over time, failing checks ranked");
  lab::SummaryReportRequest report_rq;
  report->add_option("--station", report_rq.station, "runs on this station (its name)");
  report->add_option("--product", report_rq.product, "runs of this product variant");
  report->add_option("--since", report_rq.since, "runs started on or after this date (2026-11-01)");
  report->add_option("-o,--out", report_rq.out, "HTML file (default: zhil-report.html here)");
  report->add_option("--db", report_rq.db, "results store (default: $ZHIL_DB, else zhil-results/results.db)");

  auto* accept = app.add_subcommand(
      "accept", "acceptance gate: run a product's acceptance sequence per pack serial; exit 0 ship, 1 no-ship, 2 could not decide");
  lab::AcceptRequest ar;
  std::string serials;
  accept->add_option("--serial", serials, "serial number(s) under test: SN, or SN1,SN2,... in the order of the station's packs")
      ->required();
  accept->add_option("--product", ar.product, "product variant (zhil list products)")->required();
  accept->add_option("--station", ar.station_file, "station file (default: the product's acceptance bench, simulated)");
  accept->add_option("--out", ar.out_dir, "evidence folder (default: acceptance/ here)");
  accept->add_flag("--realtime", ar.real_time, "run in real time (a station of real packs)");
  accept->add_option("--seed", ar.seed, "random seed (default: the sequence's)");

  resume->add_option("--db", flags.db, "results store the run is in (default: $ZHIL_DB, else zhil-results/results.db)");
  for (auto* sub : {run, suite, accept}) {
    sub->add_option("--db", flags.db, "results store: a SQLite file or a postgresql:// URI (default: $ZHIL_DB, else zhil-results/results.db)");
    sub->add_flag("--no-db", flags.no_db, "keep the results in the results folder only");
  }

  for (auto* sub : {run, suite, validate, accept, resume}) {
    sub->add_option("--max-output", max_output_gb, "refuse a run that would write more than this many GB (default 4)")
        ->check(CLI::PositiveNumber);
    sub->add_option("--max-memory", max_memory_gb, "refuse a run that would need more than this many GB (default 4)")
        ->check(CLI::PositiveNumber);
  }

  auto* simc = app.add_subcommand("sim", "serve one simulator over Modbus in real time until SIGINT or SIGTERM");
  simc->require_subcommand(1);
  lab::SimulatorServerOptions sim_opts;
  std::string sim_map = "sunspec";
  for (const char* kind : {"inverter", "pack"}) {
    auto* k = simc->add_subcommand(kind, std::string("a simulated ") + kind + " (SunSpec" +
                                             (std::string(kind) == "pack" ? ", or the zinc-bromine BMS map" : "") + ")");
    k->add_option("--port", sim_opts.port, "TCP port on 127.0.0.1 (0: any free port, printed)")->check(CLI::Range(0, 65535));
    k->add_option("--unit", sim_opts.unit, "unit id (zinc-bromine: of the first module)")->check(CLI::Range(1, 247));
    k->add_option("--rtu", sim_opts.rtu, "serve Modbus RTU on this serial device instead of TCP");
    k->add_option("--baud", sim_opts.baud, "RTU baud rate (default 19200)")->check(CLI::Range(300, 4000000));
    k->add_option("--fixture", sim_opts.fixture, "parameters of the simulated device (YAML)")->check(CLI::ExistingFile);
    if (std::string(kind) == "pack") {
      k->add_option("--map", sim_map, "register map: sunspec (default), zinc-bromine, or a map file");
      k->add_option("--socketcand", sim_opts.socketcand,
                    "HOST:PORT: the pack on a virtual CAN bus can0, served over socketcand, instead of Modbus");
      k->add_option("--can-map", sim_opts.can_map, "CAN map: zinc-halogen-hv (default), battery-inverter-lv, or a map file");
    }
    k->callback([&sim_opts, kind] { sim_opts.kind = kind; });
  }

  auto* canc = app.add_subcommand("can", "CAN logs: replay one onto a bus, or decode one with a DBC file");
  canc->require_subcommand(1);
  lab::CanReplayOptions replay_opts;
  auto* replay = canc->add_subcommand("replay", "play a candump log onto a bus, with the log's timing");
  replay->add_option("log", replay_opts.log, "candump log (a run's can-<bus>.log)")->required()->check(CLI::ExistingFile);
  auto* replay_to = replay->add_option_group("bus", "where to play it");
  replay_to->add_option("--socketcand", replay_opts.socketcand, "HOST:PORT of a socketcand server (zhil's or linux-can's)");
  replay_to->add_option("--interface", replay_opts.interface, "a SocketCAN interface of this machine (can0, vcan0)");
  replay_to->require_option(1);
  replay->add_option("--bus", replay_opts.bus, "the bus to open on the socketcand server (default can0)");
  replay->add_option("--speed", replay_opts.speed, "play this many times faster (default 1)")->check(CLI::PositiveNumber);
  std::string serve_at;
  std::vector<std::string> serve_buses{"can0"};
  auto* cserve = canc->add_subcommand("serve", "serve virtual CAN buses over socketcand until SIGINT or SIGTERM");
  cserve->add_option("--socketcand", serve_at, "HOST:PORT to listen on (port 0: any free one, printed)")->required();
  cserve->add_option("--bus", serve_buses, "bus names (default can0)");
  std::string decode_log, decode_dbc;
  auto* decode = canc->add_subcommand("decode", "print a candump log's signals as CSV, decoded by a DBC file");
  decode->add_option("log", decode_log, "candump log")->required()->check(CLI::ExistingFile);
  decode->add_option("--dbc", decode_dbc, "DBC file (e.g. fixtures/can/zinc-halogen-hv.dbc)")->required()->check(CLI::ExistingFile);

  std::vector<std::string> plugins;
  for (auto* sub : {run, suite, list, validate, accept, resume})
    sub->add_option("--plugin", plugins, "load a driver plugin (shared library) first; repeatable")
        ->check(CLI::ExistingFile);

  CLI11_PARSE(app, argc, argv);
  if (flags.db.empty()) flags.db = lab::default_results_location();
  if (rc.db.empty()) rc.db = lab::default_results_location();
  if (spc_rq.db.empty()) spc_rq.db = lab::default_results_location();
  if (spc->parsed()) return lab::run_spc(spc_rq);
  if (report_rq.db.empty()) report_rq.db = lab::default_results_location();
  if (report->parsed()) return lab::run_summary_report(report_rq);
  flags.limits.max_output_bytes = static_cast<std::uint64_t>(max_output_gb * 1e9);
  flags.limits.max_memory_bytes = static_cast<std::uint64_t>(max_memory_gb * 1e9);
  for (const auto& p : plugins)
    if (auto s = lab::load_plugin(p); !s) {
      std::cerr << "zhil: " << s.message() << "\n";
      return 2;
    }
  // run and suite command devices: a signal ends them through the safe state, never mid-way.
  if (run->parsed() || suite->parsed() || accept->parsed() || resume->parsed()) lab::install_process_signal_handling();
  if (resume->parsed()) return cmd_resume(resume_id, flags);
  if (accept->parsed()) {
    std::stringstream in(serials);
    for (std::string s; std::getline(in, s, ',');) ar.serials.push_back(s);
    if (!serials.empty() && serials.back() == ',') ar.serials.push_back("");
    ar.results_db = flags.no_db ? "" : flags.db;
    ar.limits = flags.limits;
    ar.show_progress = isatty(STDERR_FILENO);
    return lab::run_acceptance(ar);
  }
  if (run->parsed()) return cmd_run(scenario, flags);
  if (suite->parsed()) {
    lab::SuiteRequest r;
    r.suite_file = suite_file.empty() ? lab::find_project_root() + "/scenarios/suite.yaml" : suite_file;
    r.station_file = flags.station;
    r.seed = flags.seed;
    r.out_dir = flags.out;
    r.overwrite = flags.overwrite;
    r.limits = flags.limits;
    r.show_progress = isatty(STDERR_FILENO);
    r.results_db = flags.no_db ? "" : flags.db;
    return lab::run_suite(r);
  }
  if (simc->parsed()) {
    sim_opts.map = sim_map;
    sim_opts.root = lab::find_project_root();
    return lab::run_simulator_server(sim_opts);
  }
  if (replay->parsed()) return lab::run_can_replay(replay_opts);
  if (decode->parsed()) return lab::run_can_decode(decode_log, decode_dbc);
  if (cserve->parsed()) return lab::run_can_serve(serve_at, serve_buses);
  if (list->parsed() && list_what == "products") return lab::list_products(root.empty() ? lab::find_project_root() : root);
  if (list->parsed()) return cmd_list(root);
  if (results->parsed()) {
    rc.action = rlist->parsed() ? "list" : rshow->parsed() ? "show" : rexport->parsed() ? "export" : "summary";
    return lab::run_results_command(rc);
  }
  if (validate->parsed()) return cmd_validate(files, flags);
  return 2;
}
