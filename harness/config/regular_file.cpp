#include "harness/config/regular_file.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness/config/config_error.hpp"

namespace zhil {
namespace {

[[noreturn]] void refuse(const std::string& path, const char* what, const std::string& why) {
  throw ConfigError(path + ":1:1: " + what + " " + why);
}

const char* kind_of(mode_t m) {
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISDIR(m)) return "a folder";
  return "not a regular file";
}

}  // namespace

int open_regular_file(const std::string& path, const char* what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) refuse(path, what, std::string("cannot be opened: ") + std::strerror(errno));
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    refuse(path, what, std::string("cannot be read: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    refuse(path, what, std::string("is ") + kind_of(st.st_mode) + ", not a regular file");
  }
  struct statfs fs{};
  if (fstatfs(fd, &fs) == 0 && (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC)) {
    ::close(fd);
    refuse(path, what, "is a kernel pseudo-file (/proc or /sys), not a regular file");
  }
  // Reads block again from here (a regular file never blocks anyway).
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

std::string read_regular_file(const std::string& path, std::size_t max_bytes, const char* what) {
  const int fd = open_regular_file(path, what);
  std::string text;
  // Read at most one byte past the limit, so a huge file costs no more than the limit.
  text.resize(max_bytes + 1);
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      refuse(path, what, std::string("cannot be read: ") + std::strerror(e));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got > max_bytes)
    refuse(path, what, "is larger than " + std::to_string(max_bytes) + " bytes");
  text.resize(got);
  return text;
}

}  // namespace zhil
