#include "harness/config/yaml_guard.hpp"

#include <map>
#include <sstream>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/parser.h>

#include "harness/config/config_error.hpp"
#include "harness/config/regular_file.hpp"

namespace zhil {
namespace {

[[noreturn]] void refuse(const std::string& file, std::size_t line, std::size_t column,
                         const std::string& why) {
  throw ConfigError(file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + why);
}

// Byte-level checks: binary content, invalid UTF-8, over-long lines.
void check_text(const std::string& text, const std::string& file, const YamlLimits& limits) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
      ++i;
      continue;
    }
    if (column > limits.max_line)
      refuse(file, line, column, "line longer than " + std::to_string(limits.max_line) + " characters");
    if (c < 0x20 && c != '\t' && c != '\r')
      refuse(file, line, column, "binary content (control byte 0x" +
                                     [&] { std::ostringstream o; o << std::hex << int(c); return o.str(); }() +
                                     "): not a YAML text file");
    if (c == 0x7F) refuse(file, line, column, "binary content (control byte 0x7f): not a YAML text file");
    // Well-formed UTF-8 only (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF.
    std::size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (len == 0 || i + len > text.size()) refuse(file, line, column, "invalid UTF-8: not a YAML text file");
    const auto b1 = len > 1 ? static_cast<unsigned char>(text[i + 1]) : 0x80;
    const bool second_ok = (c == 0xE0) ? (b1 >= 0xA0 && b1 <= 0xBF) : (c == 0xED) ? (b1 >= 0x80 && b1 <= 0x9F)
                           : (c == 0xF0) ? (b1 >= 0x90 && b1 <= 0xBF) : (c == 0xF4) ? (b1 >= 0x80 && b1 <= 0x8F)
                                                                      : (b1 >= 0x80 && b1 <= 0xBF);
    if (!second_ok) refuse(file, line, column, "invalid UTF-8: not a YAML text file");
    for (std::size_t k = 2; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
        refuse(file, line, column, "invalid UTF-8: not a YAML text file");
    i += len;
    ++column;
  }
}

// First pass over the parser's events, before any node tree is built: nesting depth, and how many
// nodes the document has once every alias is expanded (an alias counts as its anchor's size).
class ShapeGuard final : public YAML::EventHandler {
 public:
  ShapeGuard(const std::string& file, const YamlLimits& limits) : file_(file), limits_(limits) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) refuse(file_, mark.line + 1, mark.column + 1, "more than one YAML document");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchor_size_.find(anchor);
    // An alias to an anchor still open (recursive) cannot be expanded at all.
    if (it == anchor_size_.end()) refuse(file_, mark.line + 1, mark.column + 1, "recursive alias");
    add(mark, it->second);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    std::size_t start;
  };
  void add(const YAML::Mark& mark, std::size_t n) {
    expanded_ += n;
    if (expanded_ > limits_.max_expanded_nodes)
      refuse(file_, mark.line + 1, mark.column + 1,
             "document expands to more than " + std::to_string(limits_.max_expanded_nodes) +
                 " nodes (alias bomb?)");
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1);
    if (anchor) anchor_size_[anchor] = 1;
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (static_cast<int>(stack_.size()) >= limits_.max_depth)
      refuse(file_, mark.line + 1, mark.column + 1,
             "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    stack_.push_back({anchor, expanded_});
    add(mark, 1);
  }
  void close() {
    Open o = stack_.back();
    stack_.pop_back();
    if (o.anchor) anchor_size_[o.anchor] = expanded_ - o.start;
  }

  const std::string& file_;
  const YamlLimits& limits_;
  int documents_ = 0;
  std::size_t expanded_ = 0;
  std::vector<Open> stack_;
  std::map<YAML::anchor_t, std::size_t> anchor_size_;
};

}  // namespace

YAML::Node load_yaml_text(const std::string& text, const std::string& file, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes)
    refuse(file, 1, 1, "file larger than " + std::to_string(limits.max_bytes) + " bytes");
  check_text(text, file, limits);
  try {
    {
      std::istringstream in(text);
      YAML::Parser parser(in);
      ShapeGuard guard(file, limits);
      while (parser.HandleNextDocument(guard)) {
      }
    }
    YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) refuse(file, 1, 1, "empty document");
    return root;
  } catch (const YAML::DeepRecursion& e) {
    refuse(file, e.mark.line + 1, e.mark.column + 1, "nesting too deep");
  } catch (const YAML::Exception& e) {
    refuse(file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
}

YAML::Node load_yaml_file(const std::string& path, const YamlLimits& limits) {
  std::string text = read_regular_file(path, limits.max_bytes, "YAML file");
  return load_yaml_text(text, path, limits);
}

}  // namespace zhil
