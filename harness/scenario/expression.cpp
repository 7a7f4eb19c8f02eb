#include "harness/scenario/expression.hpp"

#include <muParser.h>

#include <deque>
#include <stdexcept>

namespace zhil {
namespace {

constexpr const char* kNameChars =
    "0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.";

double logical_not(double v) { return v == 0.0 ? 1.0 : 0.0; }

void configure(mu::Parser& p) {
  p.DefineNameChars(kNameChars);
  p.DefineInfixOprt("!", logical_not);
}

struct BindContext {
  const SignalTable* signals;
  std::vector<std::pair<std::string, SignalId>>* inputs;
};

// muParser asks for each variable it meets; bind it to the signal's storage. muParser wants a
// non-const pointer but never writes through it (expressions have no assignment we allow: '='
// is refused below).
double* bind_signal(const char* name, void* user) {
  auto* ctx = static_cast<BindContext*>(user);
  SignalId id = ctx->signals->find(name);
  if (id == kNoSignal) throw mu::ParserError(std::string("unknown signal '") + name + "'");
  ctx->inputs->emplace_back(name, id);
  return const_cast<double*>(ctx->signals->value_ptr(id));
}

double* accept_any(const char*, void* user) {
  // Syntax check only: any name is a variable (a deque keeps earlier addresses valid).
  auto* storage = static_cast<std::deque<double>*>(user);
  return &storage->emplace_back(1.0);
}

std::string assignment_error(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') continue;
    char before = i ? text[i - 1] : ' ', after = i + 1 < text.size() ? text[i + 1] : ' ';
    if (before != '=' && before != '!' && before != '<' && before != '>' && after != '=')
      return "'=' at position " + std::to_string(i + 1) + " assigns; compare with '=='";
  }
  return "";
}

}  // namespace

std::string check_expression_syntax(const std::string& text) {
  if (auto e = assignment_error(text); !e.empty()) return "in '" + text + "': " + e;
  try {
    std::deque<double> storage;
    mu::Parser p;
    configure(p);
    p.SetVarFactory(accept_any, &storage);
    p.SetExpr(text);
    p.Eval();
    // "a > 1, b < 2" is two results of which only the last would count.
    if (p.GetNumResults() != 1) return "in '" + text + "': a condition is one expression (',' separates several)";
  } catch (const mu::Parser::exception_type& e) {
    return "in '" + text + "': " + e.GetMsg() + " at position " + std::to_string(e.GetPos() + 1);
  }
  return "";
}

Expression::Expression(const std::string& text, const SignalTable& signals)
    : text_(text), parser_(std::make_unique<mu::Parser>()) {
  if (!signals.frozen()) throw std::logic_error("Expression bound to a table that is not frozen");
  if (auto e = assignment_error(text); !e.empty()) throw std::runtime_error("in '" + text + "': " + e);
  BindContext ctx{&signals, &inputs_};
  try {
    configure(*parser_);
    parser_->SetVarFactory(bind_signal, &ctx);
    parser_->SetExpr(text);
    parser_->Eval();  // parses now, so that every variable is bound before the run
    if (parser_->GetNumResults() != 1)
      throw std::runtime_error("in '" + text + "': a condition is one expression (',' separates several)");
  } catch (const mu::Parser::exception_type& e) {
    throw std::runtime_error("in '" + text + "': " + e.GetMsg());
  }
  parser_->SetVarFactory(nullptr, nullptr);
}

Expression::~Expression() = default;
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;

double Expression::evaluate() const { return parser_->Eval(); }


}  // namespace zhil
