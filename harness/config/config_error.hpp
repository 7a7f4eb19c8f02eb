#pragma once
#include <stdexcept>
#include <string>

namespace zhil {

// A configuration file (scenario, station, fixture) is wrong. The message starts with
// "file:line:column:" so that editors jump to the spot.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace zhil
