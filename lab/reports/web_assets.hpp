#pragma once
// Front-end code inlined into every HTML report at build time (lab/CMakeLists.txt generates the
// definitions from lab/reports/web/node_modules, which lab/setup.sh installs with npm ci): a report
// is one file that works offline and loads nothing from a network.
#include <string_view>

namespace zhil::lab {

extern const std::string_view kUplotJs;   // uPlot, the time-series chart library (MIT)
extern const std::string_view kUplotCss;
extern const std::string_view kUplotVersion;

}  // namespace zhil::lab
