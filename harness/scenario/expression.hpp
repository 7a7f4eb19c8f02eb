#pragma once
// Check conditions such as "grid.p_import <= 1.1e6 && load.p_unserved < 1", compiled once with
// muParser (a maintained expression library; bytecode evaluation costs tens of nanoseconds) and bound
// to the signal table's value storage, so evaluating one each cycle does no lookups.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness/signal_table.hpp"

namespace mu {
class Parser;
}

namespace zhil {

// Syntax only (unknown signal names are accepted); returns an error message or "".
std::string check_expression_syntax(const std::string& text);

class Expression {
 public:
  // Throws std::runtime_error with the position and the unknown signal, if any. The table must be
  // frozen (values must not move).
  Expression(const std::string& text, const SignalTable& signals);
  ~Expression();
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;

  double evaluate() const;
  bool holds() const { return evaluate() != 0.0; }
  const std::string& text() const { return text_; }
  // The signals the expression reads, for evidence ("grid.p_import=1.23e6").
  const std::vector<std::pair<std::string, SignalId>>& inputs() const { return inputs_; }

 private:
  std::string text_;
  std::unique_ptr<mu::Parser> parser_;
  std::vector<std::pair<std::string, SignalId>> inputs_;
};

}  // namespace zhil
