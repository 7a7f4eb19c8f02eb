#include "harness/recording/output_folder.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace zhil {
namespace {

constexpr std::string_view kTempPrefix = ".zhil-tmp-";

// What a run or a suite writes (a later sink that writes a new file adds its name here).
// scenario.yaml: a scenario built in Python, written beside its results (bindings/scripted_run).
constexpr std::array<std::string_view, 7> kResultNames{"record.json", "junit.xml", "timeseries.csv", "report.html",
                                                       "report.md", "suite.json", "scenario.yaml"};

std::string errno_text(int e) { return std::strerror(e); }

struct DirEntries {
  std::vector<std::string> results, temporaries, result_folders, foreign;
};

// Entries of the open directory `fd`, sorted into what zhil wrote and what it did not. A subfolder
// counts as results when it holds only result files (a suite's scenario folder).
bool list_entries(int fd, DirEntries& out, int depth) {
  const int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return false;
  DIR* dir = fdopendir(dup_fd);
  if (!dir) {
    close(dup_fd);
    return false;
  }
  rewinddir(dir);
  while (dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st{};
    if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (std::string_view(name).substr(0, kTempPrefix.size()) == kTempPrefix && S_ISREG(st.st_mode)) {
      out.temporaries.push_back(name);
    } else if (OutputFolder::is_result_name(name) && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) {
      out.results.push_back(name);
    } else if (S_ISDIR(st.st_mode) && depth == 0) {
      const int sub = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      DirEntries inner;
      const bool listed = sub >= 0 && list_entries(sub, inner, depth + 1);
      if (sub >= 0) close(sub);
      if (listed && inner.foreign.empty() && inner.result_folders.empty() && !inner.results.empty())
        out.result_folders.push_back(name);
      else
        out.foreign.push_back(name + "/");
    } else {
      out.foreign.push_back(name);
    }
  }
  closedir(dir);
  return true;
}

bool remove_results(int fd, const DirEntries& entries, std::string& error) {
  for (const auto* list : {&entries.results, &entries.temporaries})
    for (const std::string& name : *list)
      if (unlinkat(fd, name.c_str(), 0) != 0 && errno != ENOENT) {
        error = name + ": cannot remove: " + errno_text(errno);
        return false;
      }
  for (const std::string& name : entries.result_folders) {
    const int sub = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) continue;
    DirEntries inner;
    bool ok = list_entries(sub, inner, 1) && remove_results(sub, inner, error);
    close(sub);
    if (!ok) return false;
    if (unlinkat(fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      error = name + ": cannot remove: " + errno_text(errno);
      return false;
    }
  }
  return true;
}

std::string list_text(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < 3; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 3) s += ", ...";
  return s;
}

}  // namespace

std::shared_ptr<OutputFolder> OutputFolder::locked(const std::string& path, int fd) {
  std::shared_ptr<OutputFolder> folder(new OutputFolder(path, fd));  // owns fd from here
  if (flock(fd, LOCK_EX | LOCK_NB) != 0)
    throw OutputFolderError("results folder " + path + " is in use by another run" +
                            (errno == EWOULDBLOCK ? "" : ": " + errno_text(errno)));
  return folder;
}

std::shared_ptr<OutputFolder> OutputFolder::claim_at(int parent_fd, const std::string& name, const std::string& path,
                                                     bool overwrite) {
  if (mkdirat(parent_fd, name.c_str(), 0755) != 0 && errno != EEXIST)
    throw OutputFolderError("results folder " + path + ": cannot create: " + errno_text(errno));
  const int fd = openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw OutputFolderError("results folder " + path + ": cannot open: " +
                            (errno == ENOTDIR ? std::string("not a folder") : errno_text(errno)));
  std::shared_ptr<OutputFolder> folder = locked(path, fd);
  DirEntries entries;
  if (!list_entries(fd, entries, 0))
    throw OutputFolderError("results folder " + path + ": cannot list: " + errno_text(errno));
  if (!entries.foreign.empty())
    throw OutputFolderError("results folder " + path + " holds files zhil did not write (" +
                            list_text(entries.foreign) + "): choose an empty or new folder");
  std::vector<std::string> earlier = entries.results;
  for (const auto& f : entries.result_folders) earlier.push_back(f + "/");
  if (!earlier.empty() && !overwrite)
    throw OutputFolderError("results folder " + path + " holds an earlier run's results (" + list_text(earlier) +
                            "): pass --overwrite to replace them, or choose another folder");
  std::string error;
  if (!remove_results(fd, entries, error))
    throw OutputFolderError("results folder " + path + ": " + error);
  return folder;
}

bool OutputFolder::is_result_name(std::string_view name) {
  for (std::string_view n : kResultNames)
    if (n == name) return true;
  // A bus log of a run with CAN buses (can-<bus>.log, devices/can/can_log_sink).
  return name.size() > 8 && name.substr(0, 4) == "can-" && name.substr(name.size() - 4) == ".log";
}

std::shared_ptr<OutputFolder> OutputFolder::claim(const std::string& path, bool overwrite) {
  if (path.empty()) throw OutputFolderError("results folder: no path given");
  namespace fs = std::filesystem;
  // "out/", "out/." and "a/../out" all name the folder out.
  fs::path p = fs::path(path).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  const fs::path parent = p.parent_path();
  const std::string name = p.filename().string();
  std::error_code ec;
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) throw OutputFolderError("results folder " + path + ": cannot create " + parent.string() + ": " + ec.message());
  }
  if (name.empty() || name == "..") throw OutputFolderError("results folder " + path + ": name a folder of its own");
  const int parent_fd = open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent_fd < 0) throw OutputFolderError("results folder " + path + ": cannot open its parent: " + errno_text(errno));
  try {
    auto f = claim_at(parent_fd, name, path, overwrite);
    close(parent_fd);
    return f;
  } catch (...) {
    close(parent_fd);
    throw;
  }
}

std::shared_ptr<OutputFolder> OutputFolder::claim_subfolder(std::string_view name, bool overwrite) const {
  const std::string n(name);
  if (n.empty() || n.find('/') != std::string::npos || n == "." || n == "..")
    throw OutputFolderError("results folder " + path_ + ": bad subfolder name '" + n + "'");
  return claim_at(dir_fd_, n, file(n), overwrite);
}

std::shared_ptr<OutputFolder> OutputFolder::reopen(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw OutputFolderError("results folder " + path + ": cannot open: " +
                            (errno == ENOTDIR ? std::string("not a folder") : errno_text(errno)));
  std::shared_ptr<OutputFolder> folder = locked(path, fd);
  folder->reopened_ = true;
  return folder;
}

int OutputFolder::open_existing(std::string_view name, std::string& error) const {
  const std::string n(name);
  const int fd = openat(dir_fd_, n.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) error = file(n) + ": cannot open: " + errno_text(errno);
  return fd;
}

OutputFolder::~OutputFolder() {
  if (dir_fd_ >= 0) close(dir_fd_);  // releases the lock
}

int OutputFolder::create(std::string_view name, std::string& error) const {
  const std::string n(name);
  struct stat st{};
  if (reopened_ && fstatat(dir_fd_, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
    // A resumed run writes this file again: what the run wrote before it stopped is kept beside it.
    const std::size_t dot = n.rfind('.');
    const std::string stem = dot == std::string::npos ? n : n.substr(0, dot);
    const std::string ext = dot == std::string::npos ? "" : n.substr(dot);
    for (int k = 1; k < 1000; ++k) {
      const std::string aside = stem + ".before-resume-" + std::to_string(k) + ext;
      if (fstatat(dir_fd_, aside.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
      if (renameat(dir_fd_, n.c_str(), dir_fd_, aside.c_str()) != 0) {
        error = file(n) + ": cannot move the earlier one aside: " + errno_text(errno);
        return -1;
      }
      break;
    }
  }
  const int fd = openat(dir_fd_, n.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    error = file(n) + ": cannot create: " +
            (errno == EEXIST ? std::string("it exists (a file or link put there during the run)") : errno_text(errno));
  return fd;
}

Status OutputFolder::replace(std::string_view name, std::string_view text) const {
  static std::atomic<unsigned> counter{0};
  const std::string n(name);
  const std::string tmp = std::string(kTempPrefix) + n + "-" + std::to_string(getpid()) + "-" +
                          std::to_string(counter.fetch_add(1));
  const int fd = openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error(file(n) + ": cannot create a temporary file: " + errno_text(errno));
  std::string error;
  if (!write_all(fd, text)) error = "write failed: " + errno_text(errno);
  else if (fsync(fd) != 0) error = "write failed (fsync): " + errno_text(errno);
  if (close(fd) != 0 && error.empty()) error = "write failed (close): " + errno_text(errno);
  if (error.empty() && renameat(dir_fd_, tmp.c_str(), dir_fd_, n.c_str()) != 0)
    error = "cannot rename into place: " + errno_text(errno);
  if (!error.empty()) {
    unlinkat(dir_fd_, tmp.c_str(), 0);
    return Status::error(file(n) + ": " + error);
  }
  (void)fsync(dir_fd_);  // the rename itself durable; a folder that cannot be synced loses nothing written
  return Status::ok();
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace zhil
