#pragma once
// A product's limit set (fixtures/limits/<product>.yaml): versioned acceptance limits, with the
// sequence that measures them and the bench it runs on by default.
//
//   limit_set: zh-160kwh-16s          # its name
//   product: zh-160kwh-16s            # the product variant it accepts
//   version: 3                        # raised whenever a limit changes; stamped into every record
//   sequence: ../../scenarios/acceptance/zh-160kwh-16s.yaml
//   station: ../stations/acceptance-zh-160kwh-16s.yaml
//   limits:                           # by measurement name (per pack: pack1.capacity takes capacity's)
//     capacity: {low: 140 kWh, marginal_low: 146 kWh}
//
// The set's SHA-256 (of the file's bytes) goes into each record and the results store beside its
// version, so that a limit edited without a new version still shows.
#include <map>
#include <string>
#include <vector>

#include "harness/config/config_node.hpp"

namespace zhil::lab {

struct Limit {
  std::string name;
  ConfigNode low, high, marginal_low, marginal_high;  // as written (units are the measurement's)
  std::string where;
};

struct LimitSet {
  std::string name, product, version, description, file, sha256;
  std::string text;  // the file's bytes as read (sha256 is theirs): what the evidence keeps
  std::string sequence_sha256;
  std::string sequence_file, station_file;  // resolved paths
  std::vector<Limit> limits;
};

// Throws ConfigError naming file:line:column.
LimitSet load_limit_set(const std::string& path);

// The limit sets of fixtures/limits/ (files with a `product:`), by product; `broken` gets the
// files that did not load, with why.
std::map<std::string, LimitSet> find_products(const std::string& root, std::vector<std::string>* broken = nullptr);

}  // namespace zhil::lab
