#pragma once
// The loaders read files (they refuse anything but a regular file), so a fuzz input is written to
// a file in a private temporary folder (mkdtemp) laid out like fixtures/: stations/ beside links to
// the checkout's packs/, inverters/, limits/, modbus/ and sunspec/, so that a station's "../packs/..." fixture
// resolves and the bench is really built. The folder is removed when the process exits.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace zhil::fuzz {

// The folder's path lives in a plain array: the exit handler runs after static strings are gone.
inline char g_work_dir[64];

inline void remove_work_dir() {
  const std::string w = g_work_dir;
  for (const char* f : {"/stations/input.yaml", "/packs", "/inverters", "/limits", "/modbus", "/sunspec"}) unlink((w + f).c_str());
  rmdir((w + "/stations").c_str());
  rmdir(w.c_str());
}

inline const char* work_dir() {
  if (g_work_dir[0] == 0) {
    std::snprintf(g_work_dir, sizeof g_work_dir, "/tmp/zhil-fuzz-XXXXXX");
    if (!mkdtemp(g_work_dir)) std::abort();
    const std::string d = g_work_dir;
    if (mkdir((d + "/stations").c_str(), 0700) != 0) std::abort();
    for (const char* sub : {"packs", "inverters", "limits", "modbus", "sunspec"})
      if (symlink((std::string(ZHIL_SOURCE_DIR) + "/fixtures/" + sub).c_str(), (d + "/" + sub).c_str()) != 0)
        std::abort();
    std::atexit(remove_work_dir);
  }
  return g_work_dir;
}

inline const std::string& write_input(const std::uint8_t* data, std::size_t size) {
  static const std::string path = std::string(work_dir()) + "/stations/input.yaml";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace zhil::fuzz
