#pragma once
// Every file zhil reads as input (scenarios, stations, fixtures, CSV traces) is read through here:
// only a regular file on a real file system is accepted. A FIFO would block the reader forever, a
// device (/dev/zero) never ends, and a /proc or /sys file changes under the reader; each is
// refused at once, naming the file. The file is opened without blocking (O_NONBLOCK), so naming a
// FIFO cannot hang even the open.
#include <cstddef>
#include <string>

namespace zhil {

// The whole file, at most max_bytes (more is refused, not truncated). Throws ConfigError
// "path:1:1: ..." naming what is wrong.
std::string read_regular_file(const std::string& path, std::size_t max_bytes, const char* what = "file");

// An open descriptor on `path` after the same checks (for readers that stream, such as hashing);
// the caller closes it. Throws ConfigError.
int open_regular_file(const std::string& path, const char* what = "file");

}  // namespace zhil
