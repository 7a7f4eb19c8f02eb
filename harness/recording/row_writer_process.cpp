#include "harness/recording/row_writer_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "harness/recording/output_folder.hpp"

namespace zhil {
namespace {

// What the writer reports: the first error (0: none) and the whole rows on disk. Sent once on
// failure and once at the end.
struct StatusMessage {
  std::int32_t error = 0;
  std::int32_t final = 0;  // 1 on the last message: a writer that ends without it died
  std::uint64_t rows = 0;
};
static_assert(sizeof(StatusMessage) == 16, "no padding: the message is sent as bytes");

bool send_all(int sock, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t k = ::send(sock, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}


void close_others(int a, int b, int c) {
  // Every descriptor but a, b, c (the file, the socket, the results folder's lock), the standard
  // ones included: the writer must not keep the harness's devices' sockets open, nor its stdout
  // (a `zhil run | head` would wait for it); it keeps the folder locked until the last row is on
  // disk.
  int keep[3] = {a, b, c};
  std::sort(keep, keep + 3);
  unsigned next = 0;
  bool ok = true;
  for (int k : keep) {
    if (k < 0) continue;
    if (static_cast<unsigned>(k) > next) ok = close_range(next, static_cast<unsigned>(k - 1), 0) == 0 && ok;
    next = std::max(next, static_cast<unsigned>(k + 1));
  }
  ok = close_range(next, ~0U, 0) == 0 && ok;
  if (!ok) {
    // close_range unavailable (a kernel before 5.9, a seccomp profile): one by one.
    rlimit lim{};
    const int top = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536 ? static_cast<int>(lim.rlim_cur) : 65536;
    for (int fd = 0; fd < top; ++fd)
      if (fd != a && fd != b && fd != c) close(fd);
  }
}

}  // namespace

void RowWriterProcess::child(int fd, int sock, int keep, char* buffer, std::size_t capacity) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, nullptr);
  close_others(fd, sock, keep);
  off_t on_disk = lseek(fd, 0, SEEK_END);
  StatusMessage st;  // no padding (static_assert above): every byte sent is initialised
  std::size_t used = 0;
  for (;;) {
    const ssize_t n = ::recv(sock, buffer + used, capacity - used, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the harness closed the socket (finished, or died)
    used += static_cast<std::size_t>(n);
    // Whole rows only: up to the last newline; the rest waits for its end.
    std::size_t whole = used;
    while (whole > 0 && buffer[whole - 1] != '\n') --whole;
    if (whole > 0 && st.error == 0) {
      if (write_all(fd, std::string_view(buffer, whole))) {  // output_folder.hpp: syscalls only
        // Start writeback now (without waiting for it), so that the sync at the end, which the
        // run waits for, has little left to do.
        (void)sync_file_range(fd, on_disk, static_cast<off_t>(whole), SYNC_FILE_RANGE_WRITE);
        on_disk += static_cast<off_t>(whole);
        st.rows += static_cast<std::uint64_t>(std::count(buffer, buffer + whole, '\n'));
      } else {
        st.error = errno;
        (void)!ftruncate(fd, on_disk);  // cut back to the last whole row
        (void)send_all(sock, reinterpret_cast<const char*>(&st), sizeof st);
      }
    }
    std::memmove(buffer, buffer + whole, used - whole);
    used -= whole;
    if (used == capacity) used = 0;  // a "row" longer than any batch: not from this harness; dropped
  }
  if (st.error == 0 && fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS) st.error = errno;
  st.final = 1;
  (void)send_all(sock, reinterpret_cast<const char*>(&st), sizeof st);
  _exit(0);
}

Status RowWriterProcess::start(int fd, std::string display, std::size_t max_batch_bytes, int keep_fd) {
  display_ = std::move(display);
  const std::size_t capacity = 2 * max_batch_bytes + 4096;
  child_buffer_ = std::make_unique<char[]>(capacity);  // before the fork: the child must not allocate
  file_ = fcntl(fd, F_DUPFD_CLOEXEC, 0);  // to repair the file if the writer dies
  int sv[2];
  if (file_ < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return Status::error(display_ + ": cannot start its writer: " + std::strerror(errno));
  // Room for two batches in flight, so that the loop rarely waits for the writer.
  const int buffer = static_cast<int>(std::min<std::size_t>(2 * max_batch_bytes, 1 << 24));
  (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  (void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  // Every signal blocked across the fork: the child must never run the parent's handlers (Boost's
  // would report a signal to the parent that never came); it keeps them blocked.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    child(fd, sv[1], keep_fd, child_buffer_.get(), capacity);
  }
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return Status::error(display_ + ": cannot start its writer: " + std::strerror(fork_errno));
  }
  child_buffer_.reset();  // the parent's copy is not needed
  pid_ = pid;
  sock_ = sv[0];
  return Status::ok();
}

Status RowWriterProcess::poll_status(bool block) {
  StatusMessage st;
  std::size_t got = 0;
  for (;;) {
    const ssize_t n = ::recv(sock_, reinterpret_cast<char*>(&st) + got, sizeof st - got, block ? 0 : MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && got == 0) return Status::ok();
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;  // the rest of a message is coming
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
    if (got < sizeof st) continue;
    rows_ = rows_before_ + st.rows;
    final_ = final_ || st.final != 0;
    if (st.error != 0 && error_.empty())
      error_ = display_ + ": write failed after " + std::to_string(st.rows) + " rows: " + std::strerror(st.error);
    got = 0;
    if (!block) break;
  }
  return error_.empty() ? Status::ok() : Status::error(error_);
}

Status RowWriterProcess::send(std::string_view rows) {
  if (!error_.empty()) return Status::error(error_);
  if (sock_ < 0) return Status::error(display_ + ": its writer is not running");
  if (Status s = poll_status(false); !s) return s;
  if (!send_all(sock_, rows.data(), rows.size())) {
    if (Status s = poll_status(false); !s) return s;
    error_ = display_ + ": its writer process ended unexpectedly";
    return Status::error(error_);
  }
  return Status::ok();
}

Status RowWriterProcess::finish(std::uint64_t& rows_on_disk) {
  if (!finished_ && sock_ >= 0) {
    finished_ = true;
    shutdown(sock_, SHUT_WR);  // the writer sees the end, writes what it has, syncs, reports
    (void)poll_status(true);
    close(sock_);
    sock_ = -1;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    // Its last message says it finished; without it the writer died (killed, crashed), whatever
    // waitpid says (a host that ignores SIGCHLD gets no status at all).
    if (!final_) {
      if (error_.empty()) error_ = display_ + ": its writer process ended before it had written everything";
      repair();
    }
  }
  if (file_ >= 0) {
    close(file_);
    file_ = -1;
  }
  rows_on_disk = rows_;
  return error_.empty() ? Status::ok() : Status::error(error_);
}

void RowWriterProcess::repair() {
  // Cut the file back to its last newline and count its rows, so the record tells the truth.
  if (file_ < 0) return;
  const off_t size = lseek(file_, 0, SEEK_END);
  if (size <= 0) return;
  std::uint64_t lines = 0;
  off_t last_newline = -1;
  char buf[65536];
  for (off_t at = 0; at < size;) {
    const ssize_t n = pread(file_, buf, sizeof buf, at);
    if (n <= 0) return;
    for (ssize_t k = 0; k < n; ++k)
      if (buf[k] == '\n') {
        ++lines;
        last_newline = at + k;
      }
    at += n;
  }
  if (last_newline + 1 < size) (void)!ftruncate(file_, last_newline + 1);
  rows_ = lines > 0 ? lines - 1 : 0;  // the header is not a row
}

RowWriterProcess::~RowWriterProcess() {
  std::uint64_t rows = 0;
  (void)finish(rows);
}

}  // namespace zhil
