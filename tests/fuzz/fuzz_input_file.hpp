#pragma once
// The loaders read files (they refuse anything but a regular file), so a fuzz input is written to
// one temporary file per process and loaded from there.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace zhil::fuzz {

inline const std::string& input_path(const char* suffix) {
  static const std::string path = "/tmp/zhil-fuzz-" + std::to_string(getpid()) + suffix;
  return path;
}

inline const std::string& write_input(const std::uint8_t* data, std::size_t size, const char* suffix) {
  const std::string& path = input_path(suffix);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace zhil::fuzz
