#include "lab/acceptance/limit_set.hpp"

#include <filesystem>

#include "harness/config/config_error.hpp"
#include "harness/config/regular_file.hpp"
#include "harness/recording/sha256.hpp"

namespace zhil::lab {
namespace fs = std::filesystem;
namespace {
constexpr std::size_t kMaxBytes = 1u << 20;  // a limit set is a page of YAML
}  // namespace

LimitSet load_limit_set(const std::string& path) {
  const ConfigNode root = ConfigNode::load_file(path);
  root.expect_keys({"limit_set", "product", "version", "description", "sequence", "station", "limits"});
  LimitSet s;
  s.file = path;
  s.text = read_regular_file(path, kMaxBytes, "limit set");
  s.sha256 = sha256_hex(s.text);
  s.name = root.require("limit_set").as_string();
  s.product = root.require("product").as_string();
  s.version = root.require("version").as_string();
  s.description = root.get_string("description", "");
  if (s.product.empty() || s.product.find_first_of("/\\ ,") != std::string::npos)
    root["product"].fail("a product is a word without / \\ , or spaces");
  const fs::path dir = fs::path(path).parent_path();
  auto file = [&](const char* key) {
    const ConfigNode n = root.require(key);
    const std::string f = (dir / n.as_string()).lexically_normal().string();
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) n.fail(std::string("no ") + key + " file " + f);
    return f;
  };
  s.sequence_file = file("sequence");
  s.sequence_sha256 = sha256_file_hex(s.sequence_file);
  s.station_file = file("station");
  for (const auto& [name, l] : root.require("limits").entries()) {
    l.expect_keys({"low", "high", "marginal_low", "marginal_high"});
    if (!l.has("low") && !l.has("high")) l.fail("a limit needs low, high or both");
    s.limits.push_back({name, l["low"], l["high"], l["marginal_low"], l["marginal_high"], l.where()});
  }
  if (s.limits.empty()) root["limits"].fail("a limit set needs at least one limit");
  return s;
}

std::map<std::string, LimitSet> find_products(const std::string& root, std::vector<std::string>* broken) {
  std::map<std::string, LimitSet> out;
  const fs::path dir = fs::path(root) / "fixtures" / "limits";
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    try {
      if (!ConfigNode::load_file(f.string()).has("product")) continue;  // a grid code's limits, not a product's
      LimitSet s = load_limit_set(f.string());
      const std::string product = s.product;
      if (out.count(product))
        throw ConfigError(f.string() + ":1:1: a second limit set for product " + product + " (the other: " +
                          out[product].file + ")");
      out.emplace(product, std::move(s));
    } catch (const std::exception& e) {
      if (broken) broken->push_back(e.what());
    }
  }
  return out;
}

}  // namespace zhil::lab
