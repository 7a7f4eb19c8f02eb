#pragma once
// `zhil results ...`: what people ask of the store. list (filtered by serial, product, station,
// date, verdict), show one run, export measurements to CSV, a summary per product and station.
#include <string>

#include "lab/results/results_store.hpp"

namespace zhil::lab {

struct ResultsCommand {
  std::string db;  // where the store is (default_results_location())
  std::string action;  // list, show, export, summary
  ResultsFilter filter;
  std::string run_id;  // show
  std::string out;     // export: a file (default: standard output)
};

// Exit code: 0 done, 1 nothing matched (show: no such run), 2 the store could not be read.
int run_results_command(const ResultsCommand& c);

}  // namespace zhil::lab
