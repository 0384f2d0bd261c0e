#include "base/k8s_names.h"

#include <fmt/format.h>

namespace weft {
namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::optional<std::string> checkLabelChars(std::string_view label, std::string_view whole, bool dotsAllowed) {
  if (label.empty()) return fmt::format("\"{}\" has an empty label", whole);
  for (char c : label) {
    if (!isLowerAlnum(c) && c != '-') {
      return fmt::format("\"{}\" must consist of lower case alphanumeric characters{}", whole,
                         dotsAllowed ? ", '-' or '.'" : " or '-'");
    }
  }
  if (!isLowerAlnum(label.front()) || !isLowerAlnum(label.back())) {
    return fmt::format("\"{}\" must start and end with an alphanumeric character", whole);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> checkDns1123Label(std::string_view name) {
  if (name.empty()) return std::string("must not be empty");
  if (name.size() > 63) return fmt::format("\"{}\" must be no more than 63 characters", name);
  return checkLabelChars(name, name, false);
}

std::optional<std::string> checkDns1123Subdomain(std::string_view name) {
  if (name.empty()) return std::string("must not be empty");
  if (name.size() > 253) return fmt::format("\"{}\" must be no more than 253 characters", name);
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    auto label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (auto why = checkLabelChars(label, name, true)) return why;
    if (dot == std::string_view::npos) return std::nullopt;
    start = dot + 1;
  }
}

}  // namespace weft
