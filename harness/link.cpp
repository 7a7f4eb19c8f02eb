#include "harness/link.hpp"

#include "harness/config/config_error.hpp"

namespace zhil {

LinkRegistry& LinkRegistry::instance() {
  static LinkRegistry registry = [] {
    LinkRegistry r;
    r.add("in-process", [](const ConfigNode& n) {
      auto link = std::make_shared<InProcessLink>();
      link->type = "in-process";
      link->where = n.defined() ? n.where() : "";
      if (n.defined()) {
        n.expect_keys({"type", "latency"});
        if (n.has("latency")) {
          link->latency = n["latency"].as_duration();
          if (link->latency < Duration{0} || link->latency > std::chrono::seconds(10))
            n["latency"].fail("latency must be between 0 and 10 s");
        }
      }
      return std::shared_ptr<const LinkSpec>(std::move(link));
    });
    return r;
  }();
  return registry;
}

void LinkRegistry::add(const std::string& type, Parser parser) { parsers_[type] = std::move(parser); }

bool LinkRegistry::remove(const std::string& type) { return parsers_.erase(type) > 0; }

std::vector<std::string> LinkRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [t, p] : parsers_) out.push_back(t);
  return out;
}

std::shared_ptr<const LinkSpec> LinkRegistry::parse(const ConfigNode& link) const {
  std::string type = "in-process";
  if (link.defined()) {
    link.expect_map();
    type = link.require("type").as_string();
  }
  auto it = parsers_.find(type);
  if (it == parsers_.end()) {
    std::string known;
    for (const auto& [t, p] : parsers_) known += (known.empty() ? "" : ", ") + t;
    link["type"].fail("unknown link type '" + type + "' (this build knows: " + known + ")");
  }
  return it->second(link);
}

}  // namespace zhil
