#pragma once
// zhil spc MEASUREMENT [--product P] [--station S] [--last N] [--subgroup K] [--html FILE] [--json]:
// one measurement across the runs in the results store, per station: n, mean, sigma, Cp and Cpk
// against its limits, and the Western Electric rules that fire on its individuals chart (each
// named with the run where it fires), as a table on the terminal; and an HTML page with, per
// station, the individuals chart and the X-bar chart (uPlot, inlined like the run report).
// A measurement made per pack (pack1.capacity, pack2.capacity) is taken by its base name too.
// Exit 0 with values, 1 when nothing matched, 2 on an error.
#include <cstddef>
#include <string>

namespace zhil::lab {

struct SpcRequest {
  std::string db;
  std::string measurement;
  std::string product, station;
  std::size_t last = 0;      // per station: the newest N values (0: all)
  std::size_t subgroup = 5;  // X-bar subgroup size
  std::string html;          // empty: spc-<measurement>.html here
  bool json = false;         // the figures as JSON on stdout instead of the table
};

int run_spc(const SpcRequest& request);

}  // namespace zhil::lab
