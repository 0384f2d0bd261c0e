#include "install/set_flag.h"

#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

namespace weft::install {
namespace {

namespace json = boost::json;

struct Segment {
  enum class Kind { kField, kIndex, kMatch } kind;
  std::string field;       // kField; kMatch: the field compared
  size_t index = 0;        // kIndex
  std::string matchValue;  // kMatch
  std::string text;        // as written, for messages
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "[3]" or "[name:foo]", the text between the brackets.
Result<Segment> parseSelector(std::string_view inside) {
  std::string text = "[" + std::string(inside) + "]";
  if (allDigits(inside)) {
    errno = 0;
    unsigned long long index = std::strtoull(std::string(inside).c_str(), nullptr, 10);
    if (errno == ERANGE) return makeError("list index {} is out of range", text);
    return Segment{Segment::Kind::kIndex, "", static_cast<size_t>(index), "", text};
  }
  auto colon = inside.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return makeError("{} is not a list selector: expected [index] or [field:value]", text);
  }
  return Segment{Segment::Kind::kMatch, std::string(inside.substr(0, colon)), 0, std::string(inside.substr(colon + 1)),
                 text};
}

// Splits "a.b[0].c", "a.[0].c" (istioctl's own spelling) and "a[name:x]" into segments.
Result<std::vector<Segment>> parsePath(std::string_view path) {
  std::vector<Segment> segments;
  size_t pos = 0;
  bool expectSegment = true;  // at the start, or right after a '.'
  while (pos < path.size()) {
    if (path[pos] == '[') {
      auto close = path.find(']', pos);
      if (close == std::string_view::npos) return makeError("unclosed '[' in \"{}\"", path);
      auto selector = parseSelector(path.substr(pos + 1, close - pos - 1));
      if (!selector) return selector.error();
      segments.push_back(std::move(*selector));
      pos = close + 1;
      expectSegment = false;
    } else if (path[pos] == '.') {
      if (expectSegment) return makeError("empty path segment in \"{}\"", path);
      ++pos;
      expectSegment = true;
      continue;
    } else {
      if (!expectSegment) return makeError("expected '.' or '[' after \"{}\" in \"{}\"", path.substr(0, pos), path);
      auto end = path.find_first_of(".[", pos);
      if (end == std::string_view::npos) end = path.size();
      std::string field(path.substr(pos, end - pos));
      segments.push_back(Segment{Segment::Kind::kField, field, 0, "", field});
      pos = end;
      expectSegment = false;
      continue;
    }
    if (pos < path.size() && path[pos] != '.' && path[pos] != '[') {
      return makeError("expected '.' or '[' after \"{}\" in \"{}\"", path.substr(0, pos), path);
    }
  }
  if (expectSegment) return makeError("empty path segment in \"{}\"", path);
  return segments;
}

// istioctl keeps these as strings whatever they look like (istio/istio values.alwaysString):
// environment values and version strings such as "1.20".
bool alwaysString(std::string_view path) {
  for (std::string_view prefix :
       {"meshConfig.defaultConfig.proxyMetadata.", "values.meshConfig.defaultConfig.proxyMetadata.",
        "values.compatibilityVersion", "compatibilityVersion"}) {
    if (path.starts_with(prefix)) return true;
  }
  return false;
}

std::string describe(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "a list";
    case json::kind::object:
      return "an object";
  }
  return "?";
}

std::string joinPath(const std::vector<Segment>& segments, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (!out.empty() && segments[i].kind == Segment::Kind::kField) out += '.';
    out += segments[i].text;
  }
  return out;
}

// Assigns `value` at segments[i..] below `node`, creating objects and lists on the way.
Status assign(json::value& node, const std::vector<Segment>& segments, size_t i, const json::value& value) {
  const Segment& segment = segments[i];
  const bool last = i + 1 == segments.size();
  auto descend = [&](json::value& child) -> Status {
    if (last) {
      child = value;
      return {};
    }
    return assign(child, segments, i + 1, value);
  };
  if (segment.kind == Segment::Kind::kField) {
    if (node.is_null()) node = json::object();
    if (!node.is_object()) return makeError("{} is {}, not an object", joinPath(segments, i), describe(node));
    return descend(node.as_object()[segment.field]);
  }
  if (node.is_null() && segment.kind == Segment::Kind::kIndex) node = json::array();
  if (node.is_null()) {  // kMatch: there is nothing to match
    return makeError("{} has no element whose {} is \"{}\"", joinPath(segments, i), segment.field, segment.matchValue);
  }
  if (!node.is_array()) return makeError("{} is {}, not a list", joinPath(segments, i), describe(node));
  auto& list = node.as_array();
  if (segment.kind == Segment::Kind::kIndex) {
    if (segment.index >= list.size()) {  // istioctl appends past the end
      list.emplace_back(nullptr);
      return descend(list.back());
    }
    return descend(list[segment.index]);
  }
  for (auto& element : list) {
    const auto* field = element.is_object() ? element.get_object().if_contains(segment.field) : nullptr;
    if (field != nullptr && field->is_string() && field->get_string() == segment.matchValue) return descend(element);
  }
  return makeError("{} has no element whose {} is \"{}\"", joinPath(segments, i), segment.field, segment.matchValue);
}

std::optional<int64_t> parseInteger(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  if (!allDigits(digits)) return std::nullopt;
  errno = 0;
  long long v = std::strtoll(std::string(text).c_str(), nullptr, 10);
  if (errno == ERANGE) return std::nullopt;
  return static_cast<int64_t>(v);
}

// Go's ParseFloat in decimal notation. Infinities and NaN stay strings: JSON has no
// spelling for them, and no IstioOperator field wants one.
std::optional<double> parseNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    bool ok = (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
    if (!ok) return std::nullopt;
  }
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE) return std::nullopt;
  return v;
}

std::optional<bool> parseBool(std::string_view text) {
  for (std::string_view t : {"t", "T", "true", "TRUE", "True"}) {
    if (text == t) return true;
  }
  for (std::string_view f : {"f", "F", "false", "FALSE", "False"}) {
    if (text == f) return false;
  }
  return std::nullopt;
}

}  // namespace

json::value parseSetValue(std::string_view text) {
  if (auto i = parseInteger(text)) return *i;
  if (auto d = parseNumber(text)) return *d;
  if (auto b = parseBool(text)) return *b;
  std::string s(text);
  for (size_t at = s.find("\\,"); at != std::string::npos; at = s.find("\\,", at + 1)) s.erase(at, 1);
  return json::string(s);
}

std::optional<std::string> lastSetFlagValue(const std::vector<std::string>& flags, std::string_view path) {
  std::optional<std::string> value;
  for (std::string_view flag : flags) {
    auto eq = flag.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view flagPath = trim(flag.substr(0, eq));
    if (flagPath.starts_with("spec.")) flagPath.remove_prefix(5);
    if (flagPath == path) value = std::string(trim(flag.substr(eq + 1)));
  }
  return value;
}

Status applySetFlag(json::object& spec, std::string_view pathEqualsValue) {
  auto fail = [&](const Error& e) { return e.wrap(fmt::format("--set \"{}\"", pathEqualsValue)); };
  auto eq = pathEqualsValue.find('=');
  if (eq == std::string_view::npos) return fail(Error{"expected path=value"});
  std::string_view path = trim(pathEqualsValue.substr(0, eq));
  std::string_view text = trim(pathEqualsValue.substr(eq + 1));
  if (path.starts_with("spec.")) path.remove_prefix(5);
  if (path.empty()) return fail(Error{"the path is empty"});
  auto segments = parsePath(path);
  if (!segments) return fail(segments.error());
  if (segments->front().kind != Segment::Kind::kField) return fail(Error{"the path must start with a field name"});
  json::value value = alwaysString(path) ? json::value(json::string(text)) : parseSetValue(text);
  // Assigned on a copy, so a flag that fails halfway leaves no half-made path behind.
  json::value root(spec);
  if (Status assigned = assign(root, *segments, 0, value); !assigned) return fail(assigned.error());
  spec = std::move(root.as_object());
  return {};
}

}  // namespace weft::install
