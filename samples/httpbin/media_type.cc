#include "httpbin/media_type.h"

namespace weft::httpbin {
namespace {

bool isTSpecial(char c) {
  switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':': case '\\': case '"':
    case '/': case '[': case ']': case '?': case '=':
      return true;
    default:
      return false;
  }
}

bool isTokenChar(char c) { return c > 0x20 && c < 0x7F && !isTSpecial(c); }

std::string_view trimLeft(std::string_view s) {
  while (!s.empty() && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n')) s.remove_prefix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  s = trimLeft(s);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

std::string_view consumeToken(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && isTokenChar(s[n])) ++n;
  const std::string_view token = s.substr(0, n);
  s.remove_prefix(n);
  return token;
}

// A token or a quoted-string; false when neither is there. Inside quotes a backslash
// escapes only a tspecial, as Go's consumeValue does (so "C:\dir" keeps its backslash).
bool consumeValue(std::string_view& s, std::string& value) {
  if (s.empty()) return false;
  if (s[0] != '"') {
    const std::string_view token = consumeToken(s);
    value = std::string(token);
    return !token.empty();
  }
  value.clear();
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      s.remove_prefix(i + 1);
      return true;
    }
    if (c == '\r' || c == '\n') return false;
    if (c == '\\' && i + 1 < s.size() && isTSpecial(s[i + 1])) ++i;
    value += s[i];
  }
  return false;  // no closing quote
}

// "; name=value"; false on anything else.
bool consumeParam(std::string_view& s, std::string& name, std::string& value) {
  std::string_view rest = trimLeft(s);
  if (rest.empty() || rest[0] != ';') return false;
  rest = trimLeft(rest.substr(1));
  const std::string_view token = consumeToken(rest);
  if (token.empty()) return false;
  rest = trimLeft(rest);
  if (rest.empty() || rest[0] != '=') return false;
  rest = trimLeft(rest.substr(1));
  if (!consumeValue(rest, value)) return false;
  name = lower(token);
  s = rest;
  return true;
}

}  // namespace

Result<MediaType> parseMediaType(std::string_view text) {
  const std::size_t semicolon = text.find(';');
  MediaType media;
  media.type = lower(trim(text.substr(0, semicolon)));

  std::string_view type = media.type;
  if (consumeToken(type).empty()) return Error{"mime: no media type"};
  if (!type.empty()) {
    if (type[0] != '/') return Error{"mime: expected slash after first token"};
    type.remove_prefix(1);
    if (consumeToken(type).empty()) return Error{"mime: expected token after slash"};
    if (!type.empty()) return Error{"mime: unexpected content after media subtype"};
  }

  std::string_view rest = semicolon == std::string_view::npos ? std::string_view{} : text.substr(semicolon);
  while (!trimLeft(rest).empty()) {
    std::string name;
    std::string value;
    if (!consumeParam(rest, name, value)) {
      if (trim(rest) == ";") break;  // a trailing semicolon is tolerated
      return Error{"mime: invalid media parameter"};
    }
    if (!media.params.emplace(std::move(name), std::move(value)).second) return Error{"mime: duplicate parameter name"};
  }
  return media;
}

}  // namespace weft::httpbin
