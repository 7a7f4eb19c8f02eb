#include "lab/results/results_commands.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>

namespace zhil::lab {

int run_results_command(const ResultsCommand& c) {
  try {
    // A query never creates a store: a mistyped --db is an error, not a new empty database.
    if (!is_postgresql_uri(c.db) && !std::ifstream(c.db.rfind("sqlite:", 0) == 0 ? c.db.substr(7) : c.db)) {
      std::cerr << "zhil results: no results store at " << c.db << " (runs create it; --db or ZHIL_DB says where)\n";
      return 2;
    }
    auto store = ResultsStore::open(c.db);
    for (const auto& id : store->marked_aborted())
      std::cerr << "zhil results: run " << id << " was left RUNNING by a process that is gone: marked ABORTED\n";
    if (c.action == "list") {
      const auto rows = store->list_runs(c.filter);
      std::printf("%-28s %-20s %-7s %-8s %-28s %-22s %s\n", "run", "started (UTC)", "kind", "verdict", "scenario",
                  "station", "DUT serials");
      for (const auto& r : rows)
        std::printf("%-28s %-20s %-7s %-8s %-28s %-22s %s\n", r.run_id.c_str(), r.started_utc.c_str(), r.kind.c_str(),
                    r.verdict.c_str(), r.scenario.c_str(), r.station.c_str(), r.serials.c_str());
      std::printf("%zu run(s)%s\n", rows.size(),
                  c.filter.limit && rows.size() == c.filter.limit ? " (the newest; --limit 0 lists all)" : "");
      return rows.empty() ? 1 : 0;
    }
    if (c.action == "show") {
      const auto id = store->find_run(c.run_id);
      if (!id) {
        std::cerr << "zhil results: no run " << c.run_id << " in " << store->describe() << "\n";
        return 1;
      }
      store->show_run(*id, std::cout);
      return 0;
    }
    if (c.action == "export") {
      std::ofstream file;
      if (!c.out.empty()) {
        file.open(c.out);
        if (!file) {
          std::cerr << "zhil results: cannot write " << c.out << "\n";
          return 2;
        }
      }
      ResultsFilter f = c.filter;
      f.limit = 0;
      const std::size_t n = store->export_csv(f, c.out.empty() ? std::cout : file);
      if (!c.out.empty()) {
        file.close();
        if (!file) {
          std::cerr << "zhil results: writing " << c.out << " failed\n";
          return 2;
        }
        std::cerr << n << " measurement row(s) written to " << c.out << "\n";
      }
      return n ? 0 : 1;
    }
    if (c.action == "summary") {
      store->summary(c.filter, std::cout);
      return 0;
    }
    std::cerr << "zhil results: unknown action " << c.action << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "zhil results: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace zhil::lab
