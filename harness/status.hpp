#pragma once
// Errors are returned, never hidden (libmodbus style): a Status is either ok or carries a message
// that names where the problem came from (device and register, file and line).
#include <string>
#include <utility>

namespace zhil {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

}  // namespace zhil
