#include "httpbin/request_target.h"

#include <vector>

#include "httpbin/url_values.h"

namespace weft::httpbin {
namespace {

bool isAlphaNumeric(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// url.shouldEscape(c, encodePath).
bool pathNeedsEscape(char c) {
  if (isAlphaNumeric(c)) return false;
  switch (c) {
    case '-': case '_': case '.': case '~':
    case '$': case '&': case '+': case ',': case '/': case ':': case ';': case '=': case '@':
      return false;
    default:
      return true;
  }
}

// url.validEncoded(s, encodePath): the sub-delimiters, brackets and '%' are kept as sent.
bool isValidEncodedPath(std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';':
      case '=': case ':': case '@': case '[': case ']': case '%':
        continue;
      default:
        if (pathNeedsEscape(c)) return false;
    }
  }
  return true;
}

std::string escapePath(std::string_view path) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (!pathNeedsEscape(c)) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  return out;
}

// "http://" and friends: a scheme is a letter, then letters, digits, '+', '-' or '.'.
std::size_t schemeLength(std::string_view target) {
  if (target.empty() || !((target[0] >= 'a' && target[0] <= 'z') || (target[0] >= 'A' && target[0] <= 'Z'))) return 0;
  for (std::size_t i = 1; i < target.size(); ++i) {
    const char c = target[i];
    if (c == ':') return target.substr(i, 3) == "://" ? i : 0;
    if (!isAlphaNumeric(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

}  // namespace

Result<RequestTarget> parseRequestTarget(std::string_view target) {
  RequestTarget parsed;
  if (target == "*") {
    parsed.path = parsed.rawPath = "*";
    return parsed;
  }
  std::string_view rest = target;
  if (rest.empty() || rest[0] != '/') {
    const std::size_t scheme = schemeLength(rest);
    if (scheme == 0) return Error{"invalid URI for request"};
    rest.remove_prefix(scheme + 3);
    const std::size_t authorityEnd = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, authorityEnd);
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    parsed.host = std::string(authority);
    rest = authorityEnd == std::string_view::npos ? std::string_view{} : rest.substr(authorityEnd);
  }
  const std::size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    parsed.hasQuery = true;
    parsed.rawQuery = std::string(rest.substr(question + 1));
    rest = rest.substr(0, question);
  }
  parsed.rawPath = std::string(rest);
  auto decoded = urlUnescape(rest, false);
  if (!decoded) return decoded.error();
  parsed.path = std::move(*decoded);
  return parsed;
}

std::string escapedPath(const RequestTarget& target) {
  if (target.path == "*") return "*";
  if (!target.rawPath.empty() && isValidEncodedPath(target.rawPath)) return target.rawPath;
  return escapePath(target.path);
}

std::string cleanPath(std::string_view path) {
  std::vector<std::string_view> kept;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view segment = path.substr(start, slash - start);
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!segment.empty() && segment != ".") {
      kept.push_back(segment);
    }
    start = slash + 1;
  }
  std::string cleaned;
  for (std::string_view segment : kept) {
    cleaned += '/';
    cleaned += segment;
  }
  if (cleaned.empty()) return "/";
  // Go keeps a trailing slash: "/anything/" and "/anything" are different routes.
  if (!path.empty() && path.back() == '/') cleaned += '/';
  return cleaned;
}

}  // namespace weft::httpbin
