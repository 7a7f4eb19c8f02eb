#pragma once
// Loads a YAML file that may be hostile: bounded size, no binary, no huge lines, bounded nesting and
// bounded expansion of aliases (a "billion laughs" file is refused before any tree is built or
// walked). Every refusal names file:line:column.
#include <cstddef>
#include <string>

#include <yaml-cpp/yaml.h>

namespace zhil {

struct YamlLimits {
  std::size_t max_bytes = 1 << 20;        // 1 MiB: a scenario is a page or two
  std::size_t max_line = 4096;
  int max_depth = 64;
  std::size_t max_expanded_nodes = 200000;  // counting every alias as a copy of its anchor
};

// Throws ConfigError. `display_name` is the path used in messages.
YAML::Node load_yaml_file(const std::string& path, const YamlLimits& limits = {});
YAML::Node load_yaml_text(const std::string& text, const std::string& display_name,
                          const YamlLimits& limits = {});

}  // namespace zhil
