#pragma once
// The writer of timeseries.csv, in a process of its own, so that a SIGKILL of the harness never
// cuts a row.
//
// Why a process: a write(2) of a batch of rows is not all-or-nothing. If the process receives
// SIGKILL inside it, the kernel stops at the next page boundary and keeps what it copied so far,
// leaving the file cut mid-row (pandas then reads NaNs, silently). No flag or mask prevents that,
// and rows are wider than a page (1,500 signals make 24 kB rows), so no padding can align them.
// A forked writer is not killed with the harness: it writes every whole row it was sent, drops a
// partial one, syncs, and exits when its socket closes. The harness sends batches of whole rows
// over a socketpair (MSG_NOSIGNAL: a dead writer is an error, not a SIGPIPE).
//
// The child uses only async-signal-safe calls on memory allocated before the fork, so forking
// from a multi-threaded host (Python) is safe. It blocks every signal it can (a Ctrl-C to the
// process group must not stop it before the harness's own safe state and record) and closes every
// descriptor but the file, its socket and the results folder: the folder stays locked until the
// last row is on disk, so a reader (or the next run) that takes the lock sees the whole file. A
// writer that dies before its last message is an error, and the harness cuts the file back to its
// last whole row and counts them itself.
//
// Limits: a SIGKILL of the whole process group, or a power loss, can still cut the last write (the
// record then says RUNNING). The fork shares the harness's memory copy-on-write: pages the harness
// writes during the run are copied (a few MB for the project's stations; all of them when a
// real-time run locks its memory). A small helper program started with posix_spawn would avoid
// that; the harness is also a library (tests, Python), which has no such program to hand.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "harness/status.hpp"

namespace zhil {

class RowWriterProcess {
 public:
  RowWriterProcess() = default;
  ~RowWriterProcess();  // ends the writer (as finish) if the owner did not
  RowWriterProcess(const RowWriterProcess&) = delete;
  RowWriterProcess& operator=(const RowWriterProcess&) = delete;

  // Forks the writer, which appends to `fd` (already open for writing at its end). `display`
  // names the file in errors; `keep_fd` (the results folder, whose lock it holds) stays open in
  // the writer until it has written everything.
  Status start(int fd, std::string display, std::size_t max_batch_bytes, int keep_fd = -1);
  // The file already holds this many rows (a resumed run appends to its earlier rows); counted in
  // finish()'s figure. Before start().
  void set_rows_before(std::uint64_t rows) { rows_before_ = rows; }
  // Whole rows (ending with '\n'). An error if the writer reported a failure or is gone.
  Status send(std::string_view rows);
  // Everything sent written and synced; the rows on disk and the first error.
  Status finish(std::uint64_t& rows_on_disk);

 private:
  Status poll_status(bool block);
  void repair();
  [[noreturn]] static void child(int fd, int sock, int keep, char* buffer, std::size_t capacity);

  pid_t pid_ = -1;
  int sock_ = -1;
  int file_ = -1;  // the parent's own descriptor of the file, to repair it if the writer dies
  bool final_ = false;
  std::string display_;
  std::unique_ptr<char[]> child_buffer_;  // allocated before the fork, used only by the child
  std::uint64_t rows_ = 0;
  std::uint64_t rows_before_ = 0;
  std::string error_;
  bool finished_ = false;
};

}  // namespace zhil
