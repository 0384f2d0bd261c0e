#include "httpbin/http_message.h"

#include <algorithm>

namespace weft::httpbin {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

const std::string* Response::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (equalsIgnoreCase(h.name, name)) return &h.value;
  }
  return nullptr;
}

std::string_view headerValue(const Request& request, std::string_view name) {
  for (const Header& h : request.headers) {
    if (equalsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

}  // namespace weft::httpbin
