#include "httpbin/url_values.h"

#include "httpbin/go_parse.h"

namespace weft::httpbin {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> urlUnescape(std::string_view text, bool plusIsSpace) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int high = i + 2 < text.size() ? hexValue(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) return makeError("invalid URL escape {}", goQuote(text.substr(i, 3)));
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> parseQueryInto(std::string_view query, Values& into) {
  std::optional<std::string> firstProblem;
  auto note = [&](std::string problem) {
    if (!firstProblem) firstProblem = std::move(problem);
  };
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.find(';') != std::string_view::npos) {
      note("invalid semicolon separator in query");
      continue;
    }
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto key = urlUnescape(pair.substr(0, eq), true);
    if (!key) {
      note(key.error().message);
      continue;
    }
    auto value = urlUnescape(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!value) {
      note(value.error().message);
      continue;
    }
    into[std::move(*key)].push_back(std::move(*value));
  }
  return firstProblem;
}

Values parseQuery(std::string_view query) {
  Values values;
  (void)parseQueryInto(query, values);
  return values;
}

boost::json::object toJsonObject(const Values& values) {
  boost::json::object object;
  object.reserve(values.size());
  for (const auto& [key, list] : values) {
    boost::json::array array;
    array.reserve(list.size());
    for (const std::string& v : list) array.emplace_back(v);
    object.emplace(key, std::move(array));
  }
  return object;
}

}  // namespace weft::httpbin
