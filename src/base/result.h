#pragma once
// Result<T>: a value or an Error, the way Weft reports failure on every path that handles
// outside input. std::expected is C++23; this is the small subset Weft needs in C++20.

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace weft {

// A failure a person can act on: the message names the file, field or peer at fault.
struct Error {
  std::string message;

  // Prefixes context, e.g. Error{"bad PEM"}.wrap("ca-cert.pem") -> "ca-cert.pem: bad PEM".
  Error wrap(std::string_view context) const & { return Error{fmt::format("{}: {}", context, message)}; }
};

template <class... Args>
Error makeError(fmt::format_string<Args...> format, Args&&... args) {
  return Error{fmt::format(format, std::forward<Args>(args)...)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}       // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace weft

// Returns the error of `expr` from the enclosing function when it failed.
#define WEFT_TRY(expr)                               \
  do {                                               \
    if (auto weft_try_result_ = (expr); !weft_try_result_) \
      return weft_try_result_.error();               \
  } while (0)
