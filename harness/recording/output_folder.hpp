#pragma once
// The folder a run writes its results into, held for the whole run.
//
// Claiming it creates it if missing, takes an exclusive lock on the directory itself (flock on
// its descriptor, so no lock file is left behind), and refuses a folder that already holds
// results unless the caller overwrites them: a second run into the same folder, or a rerun over
// yesterday's evidence, is refused instead of interleaving or replacing files silently. A folder
// that holds anything zhil does not write is refused even with overwrite, so `--out ~/` cannot
// delete anything of the user's.
//
// Files are created relative to the directory's descriptor, exclusively and without following
// symbolic links: a link planted where timeseries.csv goes is an error, never a write through it.
// replace() writes a file atomically (temporary in the same folder, fsync, rename, fsync of the
// folder), so a reader, or a machine that loses power, sees the old file or the new one.
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "harness/status.hpp"

namespace zhil {

class OutputFolderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OutputFolder {
 public:
  // Throws OutputFolderError with the reason (in use by another run, holds results, not a folder,
  // permission denied...).
  static std::shared_ptr<OutputFolder> claim(const std::string& path, bool overwrite);
  // An earlier run's folder, to continue it (zhil resume): locked as claim() does, its results
  // kept. A file created again in it (a bus log) moves the earlier one aside as
  // <stem>.before-resume-<n><ext> rather than failing or replacing it.
  static std::shared_ptr<OutputFolder> reopen(const std::string& path);
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  const std::string& path() const { return path_; }
  int descriptor() const { return dir_fd_; }  // the folder, locked (flock) while open
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

  // A new file `name` opened for reading and writing (O_EXCL, O_NOFOLLOW, close-on-exec); returns the
  // descriptor, which the caller closes, or -1 with `error` set.
  int create(std::string_view name, std::string& error) const;
  // An existing file `name` opened for reading and writing (no symbolic link followed); -1 with
  // `error` set.
  int open_existing(std::string_view name, std::string& error) const;
  // `name` replaced by `text` atomically; no temporary file stays behind on failure.
  Status replace(std::string_view name, std::string_view text) const;
  // A subfolder for a part of the results (a suite's scenario); claimed like the folder itself.
  std::shared_ptr<OutputFolder> claim_subfolder(std::string_view name, bool overwrite) const;

  // The names a run or a suite writes; only these may be replaced by `overwrite`.
  static bool is_result_name(std::string_view name);

 private:
  OutputFolder(std::string path, int dir_fd) : path_(std::move(path)), dir_fd_(dir_fd) {}
  // The open folder `fd` as an OutputFolder, locked (OutputFolderError if another run has it).
  static std::shared_ptr<OutputFolder> locked(const std::string& path, int fd);
  static std::shared_ptr<OutputFolder> claim_at(int parent_fd, const std::string& name, const std::string& path,
                                                bool overwrite);
  std::string path_;
  int dir_fd_ = -1;
  bool reopened_ = false;
};

// Writes `text` to `fd` completely, retrying short writes and EINTR; false with errno set.
bool write_all(int fd, std::string_view text);

}  // namespace zhil
