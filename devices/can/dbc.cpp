#include "devices/can/dbc.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <mutex>

#include "harness/config/config_error.hpp"
#include "harness/config/regular_file.hpp"

namespace zhil::can {

const DbcSignal* DbcMessage::find(const std::string& signal) const {
  for (const DbcSignal& s : signals)
    if (s.name == signal) return &s;
  return nullptr;
}

const DbcSignal* DbcMessage::multiplexor() const {
  for (const DbcSignal& s : signals)
    if (s.mux == DbcSignal::Mux::multiplexor) return &s;
  return nullptr;
}

const DbcMessage* Dbc::find(std::uint32_t id, bool extended) const {
  for (const DbcMessage& m : messages)
    if (m.id == id && m.extended == extended) return &m;
  return nullptr;
}

const DbcMessage* Dbc::find(const std::string& name) const {
  for (const DbcMessage& m : messages)
    if (m.name == name) return &m;
  return nullptr;
}

std::pair<const DbcMessage*, const DbcSignal*> Dbc::find_signal(const std::string& dotted) const {
  const auto dot = dotted.find('.');
  if (dot == std::string::npos) return {nullptr, nullptr};
  const DbcMessage* m = find(dotted.substr(0, dot));
  return {m, m ? m->find(dotted.substr(dot + 1)) : nullptr};
}

namespace {

constexpr std::size_t kMaxDbcBytes = 4u << 20;
constexpr int kMaxMessages = 4096;
constexpr int kMaxSignalsPerMessage = 512;

// A cursor over the text that knows its line and column, and reads DBC's tokens.
class Reader {
 public:
  Reader(const std::string& text, const std::string& file) : s_(text), file_(file) {}

  [[noreturn]] void fail(const std::string& what) const { fail_at(line_, col_, what); }
  [[noreturn]] void fail_at(int line, int col, const std::string& what) const {
    throw ConfigError(file_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + what);
  }
  std::string where() {
    skip_space();
    return file_ + ":" + std::to_string(line_) + ":" + std::to_string(col_);
  }
  // Where the next token starts.
  int line() {
    skip_space();
    return line_;
  }
  int col() {
    skip_space();
    return col_;
  }

  void skip_space() {
    while (p_ < s_.size()) {
      const char c = s_[p_];
      if (c == '/' && p_ + 1 < s_.size() && s_[p_ + 1] == '/') {  // a comment to the end of the line
        while (p_ < s_.size() && s_[p_] != '\n') advance();
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        advance();
      } else {
        break;
      }
    }
  }
  bool at_end() {
    skip_space();
    return p_ >= s_.size();
  }
  // At the first column of a line (after skipping space): a new statement in NS_'s list ends it.
  bool at_line_start() {
    skip_space();
    return col_ == 1;
  }
  char peek() {
    skip_space();
    return p_ < s_.size() ? s_[p_] : '\0';
  }
  bool accept(char c) {
    if (peek() != c) return false;
    advance();
    return true;
  }
  void expect(char c, const char* context) {
    if (!accept(c)) fail(std::string("expected '") + c + "' " + context + (p_ < s_.size() ? "" : " (end of file)"));
  }
  std::string identifier(const char* what) {
    skip_space();
    const std::size_t start = p_;
    while (p_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[p_])) || s_[p_] == '_')) advance();
    if (p_ == start) fail(std::string("expected ") + what);
    return s_.substr(start, p_ - start);
  }
  bool peek_identifier() {
    const char c = peek();
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
  }
  std::string number_text(const char* what) {
    skip_space();
    const std::size_t start = p_;
    if (p_ < s_.size() && (s_[p_] == '-' || s_[p_] == '+')) advance();
    while (p_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[p_])) || s_[p_] == '.' ||
                              ((s_[p_] == '-' || s_[p_] == '+') && (s_[p_ - 1] == 'e' || s_[p_ - 1] == 'E'))))
      advance();
    if (p_ == start) fail(std::string("expected ") + what);
    return s_.substr(start, p_ - start);
  }
  double number(const char* what) {
    skip_space();
    const int l = line_, c = col_;
    const std::string t = number_text(what);
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (end != t.c_str() + t.size() || !std::isfinite(v)) fail_at(l, c, std::string("expected ") + what + ", not '" + t + "'");
    return v;
  }
  // The identifier at the cursor, not consumed ("" if none).
  std::string peek_word() {
    if (!peek_identifier()) return "";
    const std::size_t p = p_;
    const int l = line_, c = col_;
    std::string w = identifier("a word");
    p_ = p;
    line_ = l;
    col_ = c;
    return w;
  }
  std::int64_t integer(const char* what, std::int64_t lo, std::int64_t hi) {
    skip_space();
    const int l = line_, c = col_;
    const std::string t = number_text(what);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (end != t.c_str() + t.size() || errno != 0) fail_at(l, c, std::string("expected ") + what + " (an integer), not '" + t + "'");
    if (v < lo || v > hi)
      fail_at(l, c, std::string(what) + " " + t + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  }
  std::string quoted(const char* what) {
    skip_space();
    if (p_ >= s_.size() || s_[p_] != '"') fail(std::string("expected ") + what + " (a quoted string)");
    const int l = line_, c = col_;
    advance();
    std::string out;
    while (true) {
      if (p_ >= s_.size()) fail_at(l, c, "string not closed");
      const char ch = s_[p_];
      if (ch == '"') break;
      if (ch == '\\' && p_ + 1 < s_.size()) {
        advance();
        out += s_[p_];
        advance();
        continue;
      }
      out += ch;
      advance();
      if (out.size() > 65536) fail_at(l, c, "string longer than 64 KiB");
    }
    advance();
    return out;
  }
  // Skips a statement zhil does not use, to its ';'.
  void skip_statement() {
    const int l = line_, c = col_;
    while (true) {
      skip_space();
      if (p_ >= s_.size()) fail_at(l, c, "statement not ended with ';'");
      if (s_[p_] == '"') {
        (void)quoted("text");
        continue;
      }
      const char ch = s_[p_];
      advance();
      if (ch == ';') return;
    }
  }
  // A raw character (the byte order and sign after '@' are written together: "@1+").
  char raw_char(const char* what) {
    if (p_ >= s_.size()) fail(std::string("expected ") + what);
    const char c = s_[p_];
    advance();
    return c;
  }

 private:
  void advance() {
    if (s_[p_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++p_;
  }
  const std::string& s_;
  const std::string& file_;
  std::size_t p_ = 0;
  int line_ = 1, col_ = 1;
};

struct AttrDef {
  std::string object;  // "BO_", "SG_", "BU_", "" (network)
  std::string type;    // INT, HEX, FLOAT, STRING, ENUM
  std::vector<std::string> enum_values;
};

std::uint32_t message_id(std::int64_t raw, bool* extended) {
  // DBC marks a 29-bit id by bit 31.
  *extended = (raw & 0x80000000LL) != 0;
  return static_cast<std::uint32_t>(raw & 0x1FFFFFFF);
}

void parse_signal(Reader& r, DbcMessage& m) {
  DbcSignal s;
  s.where = r.where();
  s.name = r.identifier("a signal name");
  if (m.find(s.name)) r.fail("signal " + s.name + " is defined twice in message " + m.name);
  if (r.peek_identifier()) {
    const int l = r.line(), c = r.col();
    const std::string mux = r.identifier("a multiplexer indicator");
    if (mux == "M") {
      s.mux = DbcSignal::Mux::multiplexor;
    } else if (mux.size() > 1 && mux[0] == 'm' && std::all_of(mux.begin() + 1, mux.end(), ::isdigit)) {
      s.mux = DbcSignal::Mux::multiplexed;
      s.mux_value = std::atoi(mux.c_str() + 1);
      if (mux.size() > 7) r.fail_at(l, c, "multiplexer value " + mux + " too large");
    } else if (mux.size() > 1 && mux[0] == 'm' && mux.back() == 'M') {
      r.fail_at(l, c, "extended (nested) multiplexing '" + mux + "' is not supported");
    } else {
      r.fail_at(l, c, "expected ':' or a multiplexer indicator (M, mN) after signal " + s.name + ", not '" + mux + "'");
    }
  }
  r.expect(':', "after the signal name");
  const int l = r.line(), c = r.col();
  s.start_bit = static_cast<int>(r.integer("start bit", 0, 63));
  r.expect('|', "between start bit and length");
  s.length = static_cast<int>(r.integer("length", 1, 64));
  r.expect('@', "before the byte order");
  int ol = r.line(), oc = r.col();
  const char order = r.raw_char("byte order 0 or 1");
  if (order != '0' && order != '1') r.fail_at(ol, oc, "byte order must be 0 (Motorola) or 1 (Intel)");
  s.little_endian = order == '1';
  ol = r.line(), oc = r.col();
  const char sign = r.raw_char("sign + or -");
  if (sign != '+' && sign != '-') r.fail_at(ol, oc, "sign must be + (unsigned) or - (signed)");
  s.is_signed = sign == '-';
  r.expect('(', "before factor,offset");
  s.factor = r.number("factor");
  r.expect(',', "between factor and offset");
  s.offset = r.number("offset");
  r.expect(')', "after factor,offset");
  if (s.factor == 0) r.fail_at(l, c, "signal " + s.name + ": factor 0");
  r.expect('[', "before [min|max]");
  s.min = r.number("minimum");
  r.expect('|', "between minimum and maximum");
  s.max = r.number("maximum");
  r.expect(']', "after [min|max]");
  if (s.min > s.max) r.fail_at(l, c, "signal " + s.name + ": minimum above maximum");
  s.unit = r.quoted("the unit");
  // Receivers: node names separated by commas (Vector__XXX for none).
  (void)r.identifier("a receiving node (Vector__XXX for none)");
  while (r.accept(',')) (void)r.identifier("a receiving node");
  // Fits in the frame: Intel from the start bit up, Motorola from the start bit (its MSB) down.
  int last_byte = 0, first_byte = 0;
  if (s.little_endian) {
    first_byte = s.start_bit / 8;
    last_byte = (s.start_bit + s.length - 1) / 8;
  } else {
    int pos = s.start_bit;
    first_byte = pos / 8;
    for (int k = 1; k < s.length; ++k) pos = pos % 8 == 0 ? pos + 15 : pos - 1;
    last_byte = pos / 8;
  }
  if (last_byte >= m.dlc || first_byte >= m.dlc)
    r.fail_at(l, c, "signal " + s.name + " (start " + std::to_string(s.start_bit) + ", length " + std::to_string(s.length) +
                        ") does not fit in message " + m.name + "'s " + std::to_string(m.dlc) + " bytes");
  if (static_cast<int>(m.signals.size()) >= kMaxSignalsPerMessage) r.fail_at(l, c, "too many signals in message " + m.name);
  m.signals.push_back(std::move(s));
}

// Bits a signal occupies, as a 64-bit mask over the frame (bit = byte*8 + bit in byte).
std::uint64_t bit_mask(const DbcSignal& s) {
  std::uint64_t mask = 0;
  int pos = s.start_bit;
  for (int k = 0; k < s.length; ++k) {
    if (pos >= 0 && pos < 64) mask |= 1ULL << pos;
    pos = s.little_endian ? pos + 1 : (pos % 8 == 0 ? pos + 15 : pos - 1);
  }
  return mask;
}

}  // namespace

Dbc parse_dbc(const std::string& text, const std::string& file) {
  Dbc dbc;
  dbc.file = file;
  Reader r(text, file);
  std::map<std::string, AttrDef> attrs;
  std::map<std::string, std::string> defaults;
  auto message_at = [&](std::int64_t raw, int l, int c) -> DbcMessage& {
    bool ext = false;
    const std::uint32_t id = message_id(raw, &ext);
    for (DbcMessage& m : dbc.messages)
      if (m.id == id && m.extended == ext) return m;
    r.fail_at(l, c, "no message with id " + std::to_string(raw) + " (BO_ must come first)");
  };
  while (!r.at_end()) {
    const int l = r.line(), c = r.col();
    const std::string kw = r.identifier("a DBC keyword (BO_, SG_, CM_, BA_, ...)");
    if (kw == "VERSION") {
      (void)r.quoted("the version");
    } else if (kw == "NS_") {
      r.expect(':', "after NS_");
      while (!r.at_end() && !r.at_line_start()) (void)r.identifier("a symbol name");
    } else if (kw == "BS_") {
      r.expect(':', "after BS_");
      if (!r.at_end() && !r.at_line_start()) {  // baud rate : BTR1 , BTR2 (obsolete)
        (void)r.number("baud rate");
        r.expect(':', "after the baud rate");
        (void)r.number("BTR1");
        r.expect(',', "between BTR1 and BTR2");
        (void)r.number("BTR2");
      }
    } else if (kw == "BU_") {
      r.expect(':', "after BU_");
      while (!r.at_end() && r.line() == l && r.peek_identifier()) (void)r.identifier("a node name");
    } else if (kw == "BO_") {
      DbcMessage m;
      m.where = file + ":" + std::to_string(l) + ":" + std::to_string(c);
      const int il = r.line(), ic = r.col();
      const std::int64_t raw = r.integer("message id", 0, 0xFFFFFFFFLL);
      m.id = message_id(raw, &m.extended);
      if (!m.extended && m.id > 0x7FF && raw < 0x80000000LL)
        r.fail_at(il, ic, "message id " + std::to_string(raw) + " needs 29 bits: set bit 31 (add 2147483648) for an extended id");
      if (dbc.find(m.id, m.extended)) r.fail_at(il, ic, "message id " + std::to_string(raw) + " defined twice");
      m.name = r.identifier("a message name");
      if (dbc.find(m.name)) r.fail_at(il, ic, "message name " + m.name + " defined twice");
      r.expect(':', "after the message name");
      const int dl = r.line(), dc = r.col();
      m.dlc = static_cast<int>(r.integer("DLC", 0, 64));
      if (m.dlc > 8) r.fail_at(dl, dc, "message " + m.name + ": DLC " + std::to_string(m.dlc) + " is CAN FD; zhil carries classical CAN (0..8)");
      m.sender = r.identifier("the sending node");
      if (static_cast<int>(dbc.messages.size()) >= kMaxMessages) r.fail_at(l, c, "too many messages");
      while (!r.at_end() && r.peek_word() == "SG_") {
        (void)r.identifier("SG_");
        parse_signal(r, m);
      }
      // Overlapping signals (apart from multiplexed ones sharing their slot) are a broken map.
      for (std::size_t a = 0; a < m.signals.size(); ++a)
        for (std::size_t b = a + 1; b < m.signals.size(); ++b) {
          const DbcSignal& x = m.signals[a];
          const DbcSignal& y = m.signals[b];
          const bool both_muxed = x.mux == DbcSignal::Mux::multiplexed && y.mux == DbcSignal::Mux::multiplexed;
          if (both_muxed && x.mux_value != y.mux_value) continue;
          if (bit_mask(x) & bit_mask(y)) throw ConfigError(y.where + ": signal " + y.name + " overlaps " + x.name + " in message " + m.name);
        }
      if (std::any_of(m.signals.begin(), m.signals.end(), [](const DbcSignal& s) { return s.mux == DbcSignal::Mux::multiplexed; }) &&
          !m.multiplexor())
        throw ConfigError(m.where + ": message " + m.name + " has multiplexed signals but no multiplexor (M)");
      dbc.messages.push_back(std::move(m));
    } else if (kw == "CM_") {
      if (r.peek() == '"') {
        dbc.comment = r.quoted("the comment");
      } else {
        const std::string obj = r.identifier("BO_, SG_, BU_ or EV_");
        if (obj == "BO_") {
          const int il = r.line(), ic = r.col();
          DbcMessage& m = message_at(r.integer("message id", 0, 0xFFFFFFFFLL), il, ic);
          m.comment = r.quoted("the comment");
        } else if (obj == "SG_") {
          const int il = r.line(), ic = r.col();
          DbcMessage& m = message_at(r.integer("message id", 0, 0xFFFFFFFFLL), il, ic);
          const int nl = r.line(), nc = r.col();
          const std::string name = r.identifier("a signal name");
          auto it = std::find_if(m.signals.begin(), m.signals.end(), [&](const DbcSignal& s) { return s.name == name; });
          if (it == m.signals.end()) r.fail_at(nl, nc, "message " + m.name + " has no signal " + name);
          it->comment = r.quoted("the comment");
        } else {
          (void)r.identifier("the object's name");
          (void)r.quoted("the comment");
        }
      }
      r.expect(';', "after the comment");
    } else if (kw == "BA_DEF_") {
      AttrDef d;
      if (r.peek_identifier()) d.object = r.identifier("BO_, SG_, BU_ or EV_");
      const std::string name = r.quoted("the attribute name");
      d.type = r.identifier("INT, HEX, FLOAT, STRING or ENUM");
      if (d.type == "ENUM") {
        do d.enum_values.push_back(r.quoted("an enumeration value"));
        while (r.accept(','));
      } else if (d.type == "INT" || d.type == "HEX" || d.type == "FLOAT") {
        (void)r.number("the minimum");
        (void)r.number("the maximum");
      } else if (d.type != "STRING") {
        r.fail_at(l, c, "attribute type " + d.type + " (INT, HEX, FLOAT, STRING or ENUM)");
      }
      r.expect(';', "after the attribute definition");
      attrs[name] = d;
    } else if (kw == "BA_DEF_DEF_") {
      const std::string name = r.quoted("the attribute name");
      defaults[name] = r.peek() == '"' ? r.quoted("the default") : r.number_text("the default");
      r.expect(';', "after the attribute default");
    } else if (kw == "BA_") {
      const int nl = r.line(), nc = r.col();
      const std::string name = r.quoted("the attribute name");
      auto def = attrs.find(name);
      if (def == attrs.end()) r.fail_at(nl, nc, "attribute \"" + name + "\" is not declared (BA_DEF_)");
      std::string obj;
      if (r.peek_identifier()) obj = r.identifier("BO_, SG_, BU_ or EV_");
      if (obj != def->second.object) r.fail_at(nl, nc, "attribute \"" + name + "\" is declared for " +
                                                           (def->second.object.empty() ? "the network" : def->second.object) +
                                                           ", used on " + (obj.empty() ? "the network" : obj));
      DbcMessage* m = nullptr;
      DbcSignal* s = nullptr;
      if (obj == "BO_" || obj == "SG_") {
        const int il = r.line(), ic = r.col();
        m = &message_at(r.integer("message id", 0, 0xFFFFFFFFLL), il, ic);
        if (obj == "SG_") {
          const int sl = r.line(), sc = r.col();
          const std::string sig = r.identifier("a signal name");
          auto it = std::find_if(m->signals.begin(), m->signals.end(), [&](const DbcSignal& x) { return x.name == sig; });
          if (it == m->signals.end()) r.fail_at(sl, sc, "message " + m->name + " has no signal " + sig);
          s = &*it;
        }
      } else if (!obj.empty()) {
        (void)r.identifier("the object's name");
      }
      const int vl = r.line(), vc = r.col();
      if (r.peek() == '"') {
        (void)r.quoted("the value");
      } else {
        const double v = r.number("the attribute's value");
        auto ms = [&](const char* what) {
          if (v < 0 || v > 3.6e6) r.fail_at(vl, vc, std::string(what) + " must be 0..3600000 ms");
          return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(v));
        };
        if (name == "GenMsgCycleTime" && m) m->cycle = ms("GenMsgCycleTime");
        if (name == "GenMsgTimeout" && m) m->timeout = ms("GenMsgTimeout");
        if (name == "GenMsgMinLength" && m) {
          if (v < 0 || v > m->dlc || v != std::floor(v)) r.fail_at(vl, vc, "GenMsgMinLength must be 0..DLC");
          m->min_length = static_cast<int>(v);
        }
        if (name == "GenSigInvalidValue" && s) {
          if (v < 0 || v != std::floor(v) || (s->length < 64 && v >= std::ldexp(1.0, s->length)))
            r.fail_at(vl, vc, "GenSigInvalidValue must be a raw value of " + std::to_string(s->length) + " bits");
          s->invalid_raw = static_cast<std::uint64_t>(v);
        }
      }
      r.expect(';', "after the attribute value");
    } else if (kw == "VAL_") {
      const int il = r.line(), ic = r.col();
      DbcMessage& m = message_at(r.integer("message id", 0, 0xFFFFFFFFLL), il, ic);
      const int sl = r.line(), sc = r.col();
      const std::string sig = r.identifier("a signal name");
      auto it = std::find_if(m.signals.begin(), m.signals.end(), [&](const DbcSignal& x) { return x.name == sig; });
      if (it == m.signals.end()) r.fail_at(sl, sc, "message " + m.name + " has no signal " + sig);
      while (r.peek() != ';') {
        const std::int64_t v = r.integer("a raw value", INT64_MIN / 2, INT64_MAX / 2);
        it->values.push_back({v, r.quoted("its description")});
      }
      r.expect(';', "after the value descriptions");
    } else if (kw == "SIG_VALTYPE_") {
      r.fail_at(l, c, "SIG_VALTYPE_ (IEEE float signals) is not supported");
    } else if (kw == "SG_") {
      r.fail_at(l, c, "SG_ outside a message (a signal must follow its BO_)");
    } else {
      // VAL_TABLE_, EV_, SIG_GROUP_, BO_TX_BU_, BA_DEF_REL_, ... : not used by zhil.
      r.skip_statement();
    }
  }
  for (const auto& [name, value] : defaults) {
    // A default cycle time or timeout applies to every message that sets none.
    const double v = std::strtod(value.c_str(), nullptr);
    if (!(v > 0 && v <= 3.6e6)) continue;
    const Duration d = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(v));
    for (DbcMessage& m : dbc.messages) {
      if (name == "GenMsgCycleTime" && m.cycle == Duration{0}) m.cycle = d;
      if (name == "GenMsgTimeout" && m.timeout == Duration{0}) m.timeout = d;
    }
  }
  return dbc;
}

Dbc load_dbc(const std::string& path) { return parse_dbc(read_regular_file(path, kMaxDbcBytes, "DBC file"), path); }

std::shared_ptr<const Dbc> cached_dbc(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Dbc>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[path];
  if (!slot) slot = std::make_shared<const Dbc>(load_dbc(path));
  return slot;
}

}  // namespace zhil::can
