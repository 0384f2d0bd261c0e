#include "model/yaml_writer.h"

#include <boost/json.hpp>

#include <cmath>

#include "model/document.h"

namespace weft::model {
namespace {

namespace json = boost::json;

// Plain scalars that YAML would read as something other than this string, or that YAML
// syntax would mangle, are written double-quoted (JSON string syntax is valid YAML).
// Code points libyaml refuses in a plain scalar or reads as line breaks: C0 and C1
// controls, DEL, NEL, LINE and PARAGRAPH SEPARATOR, and the byte-order mark.
bool isUnprintable(uint32_t cp) {
  return (cp < 0x20 && cp != '\n') || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

// Decodes one UTF-8 code point at `i`; invalid bytes come back as themselves.
uint32_t nextCodePoint(std::string_view s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t length = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + length > s.size()) length = 1;
  uint32_t cp = length == 1 ? c : (c & (0xff >> (length + 1)));
  for (size_t k = 1; k < length; ++k) cp = (cp << 6) | (byte(i + k) & 0x3f);
  i += length;
  return cp;
}

bool hasUnprintable(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (isUnprintable(nextCodePoint(s, i))) return true;
  }
  return false;
}

// A YAML double-quoted scalar that escapes everything libyaml would refuse.
std::string doubleQuoted(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = nextCodePoint(s, i);
    if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (isUnprintable(cp)) {
      out += cp <= 0xff ? fmt::format("\\x{:02x}", cp) : fmt::format("\\u{:04x}", cp);
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  return out + "\"";
}

bool needsQuotes(std::string_view s) {
  if (s.empty() || !resolvePlainScalar(s).is_string()) return true;
  // YAML 1.1 readers (PyYAML, go-yaml v2 behind kubectl) also read these as booleans,
  // and 1_000 or .nan as numbers: quote them too, so every reader sees a string.
  static constexpr std::string_view kOther[] = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On",
                                                "ON", "off", "Off", "OFF", ".nan", ".NaN", ".NAN"};
  for (auto word : kOther) {
    if (s == word) return true;
  }
  if (std::isdigit(static_cast<unsigned char>(s.front())) && s.find('_') != std::string_view::npos) return true;
  const std::string_view leading = "-?:,[]{}#&*!|>'\"%@` ";
  if (leading.find(s.front()) != std::string_view::npos || s.back() == ' ') return true;
  if (hasUnprintable(s)) return true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') return true;  // a plain scalar would fold it into a space
    if (s[i] == ':' && (i + 1 == s.size() || s[i + 1] == ' ')) return true;
    if (s[i] == '#' && i > 0 && s[i - 1] == ' ') return true;
  }
  return false;
}

std::string scalar(const json::value& v) {
  if (v.is_string()) {
    std::string_view s = v.get_string();
    return needsQuotes(s) ? doubleQuoted(s) : std::string(s);
  }
  if (v.is_null()) return "null";
  if (v.is_double() && std::isinf(v.get_double())) return v.get_double() > 0 ? ".inf" : "-.inf";
  return json::serialize(v);
}

bool isEmptyCollection(const json::value& v) {
  return (v.is_object() && v.get_object().empty()) || (v.is_array() && v.get_array().empty());
}

void write(std::string& out, const json::value& v, int indent);

void writeKey(std::string& out, std::string_view key) { out += needsQuotes(key) ? doubleQuoted(key) : std::string(key); }

void writeObject(std::string& out, const json::object& obj, int indent, bool firstInline) {
  bool first = true;
  for (const auto& [key, child] : obj) {
    if (!(first && firstInline)) out.append(static_cast<size_t>(indent), ' ');
    first = false;
    writeKey(out, key);
    out += ':';
    if (child.is_object() && !child.get_object().empty()) {
      out += '\n';
      writeObject(out, child.get_object(), indent + 2, false);
    } else if (child.is_array() && !child.get_array().empty()) {
      out += '\n';
      write(out, child, indent);  // lists sit at the key's indentation, as kubectl writes them
    } else {
      out += ' ';
      out += isEmptyCollection(child) ? (child.is_object() ? "{}" : "[]") : scalar(child);
      out += '\n';
    }
  }
}

void write(std::string& out, const json::value& v, int indent) {
  if (v.is_object() && !v.get_object().empty()) {
    writeObject(out, v.get_object(), indent, false);
  } else if (v.is_array() && !v.get_array().empty()) {
    for (const auto& item : v.get_array()) {
      out.append(static_cast<size_t>(indent), ' ');
      out += "- ";
      if (item.is_object() && !item.get_object().empty()) {
        writeObject(out, item.get_object(), indent + 2, true);
      } else if (item.is_array() && !item.get_array().empty()) {
        out += '\n';
        write(out, item, indent + 2);
      } else {
        out += isEmptyCollection(item) ? (item.is_object() ? "{}" : "[]") : scalar(item);
        out += '\n';
      }
    }
  } else {
    out += isEmptyCollection(v) ? (v.is_object() ? "{}" : "[]") : scalar(v);
    out += '\n';
  }
}

}  // namespace

std::string toYaml(const json::value& value) {
  std::string out;
  write(out, value, 0);
  return out;
}

}  // namespace weft::model
