#pragma once
// zhil resume RUN_ID: a run that stopped before its end (killed, Ctrl-C, a lost device, a power
// cut) and was taking checkpoints goes on from its newest usable checkpoint, in the same results
// folder and under the same run id in the results store.
//
// Usable: the run's time series on disk reaches the checkpoint's last row (the newest checkpoint
// may be ahead of what a kill left on disk; the one before it is then taken). Refused: a run still
// RUNNING (its process is alive), one that completed (PASS or FAIL), an acceptance gate's run (a
// ship decision is taken in one attempt: run the gate again), a run with no checkpoint, and one
// whose scenario or station file changed since.
#include <string>

#include "lab/scenario_runner.hpp"

namespace zhil::lab {

// Fills `request` to resume run `id_or_prefix` of the store at `db`; returns the error otherwise.
Status prepare_resume(const std::string& db, const std::string& id_or_prefix, ScenarioRunRequest& request);

}  // namespace zhil::lab
