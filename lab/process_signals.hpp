#pragma once
// How the zhil program treats signals outside a run (a run takes them over while it goes; see
// harness/host_signals.hpp):
// - SIGPIPE and SIGXFSZ are ignored: a closed stdout (`zhil run ... | head`) or a file-size limit
//   is a failed write, which zhil checks and reports, never a death with the devices active.
// - every terminating signal that can be caught is remembered instead of killing the process: one
//   that comes while the files are loaded aborts the run before its first cycle; one that comes
//   after the run has ended lets the program print its summary and exit with the run's code.
namespace zhil::lab {

// For every command: SIGPIPE and SIGXFSZ ignored.
void ignore_pipe_signals();
// For run and suite (which command devices): terminating signals remembered instead of killing.
void install_process_signal_handling();
// The first terminating signal caught outside a run, or 0.
int pending_process_signal();

}  // namespace zhil::lab
