#pragma once
// An acceptance sequence made for one station: entries marked `for_each: pack` repeated per pack
// ({pack} replaced by its name, the entry's name prefixed with it), and every measurement given
// the limits of the product's limit set (by its name without the pack prefix). The result is a
// scenario's YAML text, written into the evidence bundle and run from there.
#include <string>
#include <vector>

#include "lab/acceptance/limit_set.hpp"

namespace zhil::lab {

// Throws ConfigError naming the sequence's or the limit set's file:line:column (an entry that is
// not a map, a limit for a measurement the sequence does not make).
std::string expand_sequence(const std::string& sequence_file, const std::vector<std::string>& packs,
                            const LimitSet& limits);

}  // namespace zhil::lab
