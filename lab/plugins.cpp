#include "lab/plugins.hpp"

#include <dlfcn.h>

namespace zhil::lab {

Status load_plugin(const std::string& path) {
  // A name without a '/' would be searched on the library path: a plugin is always a file.
  const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  // Never closed: its registrations and the code behind them live as long as the program.
  if (!dlopen(file.c_str(), RTLD_NOW | RTLD_GLOBAL)) return Status::error("plugin " + path + ": " + dlerror());
  return Status::ok();
}

}  // namespace zhil::lab
