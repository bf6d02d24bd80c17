// Status and Expected<T>: every failure caused by input travels as a value, never as an exception.
#pragma once
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace edgepack {

enum class error_code {
#define EDGEPACK_ERROR(name, code, summary) name = code,
#include "core/errors.def"
#undef EDGEPACK_ERROR
};

constexpr int error_code_count = 0
#define EDGEPACK_ERROR(name, code, summary) +1
#include "core/errors.def"
#undef EDGEPACK_ERROR
    ;
static_assert(error_code_count == 6, "errors.def changed: update docs/errors.md and tools/exit mapping");

const char* error_code_name(error_code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(error_code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok_status() { return {}; }
  bool ok() const { return code_ == error_code::ok; }
  error_code code() const { return code_; }
  const std::string& message() const { return message_; }
  // Prefix context (usually the file name) so the final message names where things went wrong.
  Status with_context(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  error_code code_ = error_code::ok;
  std::string message_;
};

inline Status bad_input(std::string message) { return {error_code::bad_input, std::move(message)}; }
inline Status bad_usage(std::string message) { return {error_code::bad_usage, std::move(message)}; }
inline Status io_failure(std::string message) { return {error_code::io_failure, std::move(message)}; }
inline Status internal_error(std::string message) { return {error_code::internal, std::move(message)}; }

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}
  Expected(Status status) : state_(std::move(status)) { assert(!std::get<Status>(state_).ok()); }
  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status ok_value;
    return ok() ? ok_value : std::get<Status>(state_);
  }
  T& value() & { assert(ok()); return std::get<T>(state_); }
  const T& value() const& { assert(ok()); return std::get<T>(state_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace edgepack

// Early-return helpers: keep call sites flat without hiding control flow in exceptions.
#define EP_CONCAT_INNER(a, b) a##b
#define EP_CONCAT(a, b) EP_CONCAT_INNER(a, b)
#define EP_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::edgepack::Status ep_status_ = (expr);       \
    if (!ep_status_.ok()) return ep_status_;      \
  } while (0)
#define EP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
#define EP_ASSIGN_OR_RETURN(lhs, expr) EP_ASSIGN_OR_RETURN_IMPL(EP_CONCAT(ep_expected_, __LINE__), lhs, expr)
