#pragma once
// `zhil accept`: the manufacturing gate. Runs a product's acceptance sequence on the packs of a
// station, one serial per pack (in the order of the station's packs), and decides per serial:
//
//   SHIP      every check and measurement of that pack passed (a marginal one is shown as such)
//   NO-SHIP   one failed: named, with its value and the limit it broke
//   could not decide  the bench failed (error, abort, a lost device), or the serial read from
//             the pack is not the one given (the gate stops at once)
//
// Exit code: 0 all ship, 1 a pack is no-ship (and the others decided), 2 one could not be decided.
// One run for all packs; a failing pack fails only itself, a bench-level error decides none.
//
// Evidence, kept for every serial and attempt (a second attempt never replaces the first):
//   <out>/<serial>/attempt-<n>/  record.json and junit.xml of that serial, the time series and bus
//                                logs of the run (copies), the sequence as run (scenario.yaml),
//                                copies of the limit set and the station, evidence.json (decision,
//                                failing measurements and limits, SHA-256 of everything it used)
//   <out>/runs/<UTC time>/       the run itself (all packs)
// and the run in the results store (kind accept; one DUT row per serial with its verdict).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lab/run_preparation.hpp"

namespace zhil::lab {

struct AcceptRequest {
  std::vector<std::string> serials;  // one per pack of the station, in its order
  std::string product;
  std::string station_file;  // empty: the limit set's
  std::string out_dir = "acceptance";
  std::string results_db;    // empty: none
  bool real_time = false;  // also when the station has a real device (a model not named *-simulator)
  std::optional<std::uint64_t> seed;
  ResourceLimits limits;
  bool show_progress = false;
};

int run_acceptance(const AcceptRequest& request);

// Does the identity a pack reported ("zhil ZH-0001 2.6", "1 2") name this serial? Words compared
// whole; a number only as the identity's first word, against the serial's trailing digits.
bool identity_names_serial(const std::string& identity, const std::string& serial);

// `zhil list products`: the product variants with a limit set.
int list_products(const std::string& root);

}  // namespace zhil::lab
