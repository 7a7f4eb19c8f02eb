#pragma once
// How a device is reached (labgrid's "resource", apart from the driver that talks to it): the
// station's `link:` of a device, parsed into a typed link per link type, its keys checked and an
// unknown key refused at file:line:column. Link types are registered by name; this file knows only
// the built-in `in-process`. Later link types (modbus-tcp, modbus-rtu, socketcan, socketcand, ...)
// register their own parser without editing anything here, in-tree or from a plugin.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/config/config_node.hpp"
#include "harness/registration.hpp"
#include "harness/time.hpp"

namespace zhil {

struct LinkSpec {
  virtual ~LinkSpec() = default;
  std::string type;
  std::string where;  // file:line:column of the link, for errors about it later
};

// The device is an object in this process (a simulator): no protocol. `latency` delays every answer
// by that much, in simulated and in real time, to exercise the asynchronous cycle.
struct InProcessLink final : LinkSpec {
  Duration latency{0};
};

class LinkRegistry {
 public:
  // Throws ConfigError (file:line:column) for a bad key or value.
  using Parser = std::function<std::shared_ptr<const LinkSpec>(const ConfigNode& link)>;
  static LinkRegistry& instance();
  void add(const std::string& type, Parser parser);
  bool remove(const std::string& type);
  // `link` undefined: the in-process default.
  std::shared_ptr<const LinkSpec> parse(const ConfigNode& link) const;
  std::vector<std::string> types() const;

 private:
  std::map<std::string, Parser> parsers_;
};

// Registers a link type for as long as it lives (a static object in a driver's file or a plugin).
using LinkRegistration = Registration<LinkRegistry, LinkRegistry::Parser>;

}  // namespace zhil
