#pragma once
// A run's state as bytes and back, for checkpoints (harness/checkpoint/run_checkpoint.hpp).
//
// cereal's portable binary archives do the work (Debian's libcereal-dev): every part of a run that
// holds state writes and reads it with one symmetric function,
//
//   template <class Archive> void state(Archive& a) { a(soc_, t_c_, timer_); }
//
// so saving and loading cannot drift apart. Doubles go in as their bits, so a resumed simulation
// continues from exactly the numbers it stopped with. Each part opens a named section: a
// checkpoint that does not fit the run it is loaded into (another station, another core) fails
// naming the part where it stopped fitting, instead of loading garbage.
#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/common.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

#include "harness/checkpoint/state_archive_fwd.hpp"

namespace zhil {

class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `name`; on reading, checks that the section there is `name` (CheckpointError if not).
void state_section(StateWriter& a, std::string_view name);
void state_section(StateReader& a, std::string_view name);

// A count the run has (packs, signals, events) and the checkpoint must have too: written, or read
// and compared (CheckpointError naming `what` if they differ).
template <class Archive>
void state_count(Archive& a, std::uint64_t have, const std::string& what) {
  std::uint64_t saved = have;
  a(saved);
  if (saved != have)
    throw CheckpointError("checkpoint: this run has " + std::to_string(have) + " " + what + "; the checkpoint has " +
                          std::to_string(saved));
}

// For a const object's save: the symmetric state() functions take the archive and the object by
// non-const reference; a writer only reads the fields.
template <class T>
void save_state_of(StateWriter& a, const T& object) {
  const_cast<T&>(object).state(a);
}

}  // namespace zhil
