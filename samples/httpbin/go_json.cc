#include "httpbin/go_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include <boost/json/stream_parser.hpp>

namespace weft::httpbin {
namespace {

namespace json = boost::json;

constexpr char kHexDigits[] = "0123456789abcdef";

// Deep enough for any real document; shallow enough that the recursive writer below cannot
// exhaust a worker thread's stack. Go allows 10000; deeper bodies get a 400 here.
constexpr std::size_t kMaxDecodeDepth = 500;

// Width of the valid UTF-8 sequence starting at s[i], or 0 where Go's utf8.DecodeRune
// reports an error (bad lead, bad continuation, overlong, surrogate, past U+10FFFF).
std::size_t utf8SequenceLength(std::string_view s, std::size_t i, char32_t& rune) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t length = 0;
  if (lead < 0x80) {
    rune = lead;
    return 1;
  } else if (lead >= 0xC2 && lead < 0xE0) {
    length = 2;
    rune = lead & 0x1F;
  } else if (lead >= 0xE0 && lead < 0xF0) {
    length = 3;
    rune = lead & 0x0F;
  } else if (lead >= 0xF0 && lead < 0xF5) {
    length = 4;
    rune = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    rune = (rune << 6) | (next & 0x3F);
  }
  if (length == 3 && (rune < 0x800 || (rune >= 0xD800 && rune <= 0xDFFF))) return 0;
  if (length == 4 && (rune < 0x10000 || rune > 0x10FFFF)) return 0;
  return length;
}

void appendString(std::string& out, std::string_view s, bool escapeHtml) {
  out += '"';
  std::size_t clean = 0;  // start of the run not yet copied
  auto flush = [&](std::size_t end) { out.append(s.data() + clean, end - clean); };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      const bool html = c == '<' || c == '>' || c == '&';
      if (c >= 0x20 && c != '"' && c != '\\' && !(escapeHtml && html)) {
        ++i;
        continue;
      }
      flush(i);
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          out += "\\u00";
          out += kHexDigits[c >> 4];
          out += kHexDigits[c & 0xF];
      }
      clean = ++i;
      continue;
    }
    char32_t rune = 0;
    const std::size_t length = utf8SequenceLength(s, i, rune);
    if (length == 0) {
      flush(i);
      out += "\\ufffd";
      clean = ++i;
    } else if (rune == 0x2028 || rune == 0x2029) {
      // Valid JSON, but they end lines in JavaScript, so Go escapes them.
      flush(i);
      out += "\\u202";
      out += kHexDigits[rune & 0xF];
      clean = i += length;
    } else {
      i += length;
    }
  }
  flush(s.size());
  out += '"';
}

// strconv.FormatFloat(f, 'f' or 'e', -1, 64) as Go's floatEncoder picks: the shortest
// digits that read back as f, laid out without an exponent between 1e-6 and 1e21. Go pads
// those digits with zeros (12345678901234567000), where printing the exact value would not.
void appendFloat(std::string& out, double f) {
  char text[64];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, f, std::chars_format::scientific);
  if (ec != std::errc()) return;
  const std::string_view scientific(text, static_cast<std::size_t>(end - text));  // "-1.25e+02"
  const std::size_t e = scientific.find('e');
  const double magnitude = std::fabs(f);
  if (magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21)) {
    out.append(scientific.substr(0, e + 2));  // mantissa, 'e' and the exponent's sign
    std::string_view exponent = scientific.substr(e + 2);
    if (exponent.size() > 1 && exponent[0] == '0') exponent.remove_prefix(1);  // e-07 -> e-7
    out.append(exponent);
    return;
  }
  std::string_view mantissa = scientific.substr(0, e);
  if (mantissa[0] == '-') {
    out += '-';
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::from_chars(scientific.data() + e + 1 + (scientific[e + 1] == '+'), scientific.data() + scientific.size(),
                  exponent);
  const int integerDigits = exponent + 1;  // digits before the decimal point
  const int count = static_cast<int>(digits.size());
  if (integerDigits <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-integerDigits), '0');
    out += digits;
  } else if (integerDigits >= count) {
    out += digits;
    out.append(static_cast<std::size_t>(integerDigits - count), '0');
  } else {
    out.append(digits, 0, static_cast<std::size_t>(integerDigits));
    out += '.';
    out.append(digits, static_cast<std::size_t>(integerDigits));
  }
}

template <class Integer>
void appendInteger(std::string& out, Integer i) {
  char text[24];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, i);
  out.append(text, ec == std::errc() ? end : text);
}

void newline(std::string& out, const JsonStyle& style, int depth) {
  if (style.layout == JsonLayout::kCompact) return;
  out += '\n';
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

void appendValue(std::string& out, const json::value& value, const JsonStyle& style, int depth) {
  switch (value.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += value.get_bool() ? "true" : "false"; break;
    case json::kind::int64: appendInteger(out, value.get_int64()); break;
    case json::kind::uint64: appendInteger(out, value.get_uint64()); break;
    case json::kind::double_: appendFloat(out, value.get_double()); break;
    case json::kind::string: appendString(out, value.get_string(), style.escapeHtml); break;
    case json::kind::array: {
      const json::array& array = value.get_array();
      if (array.empty()) {
        out += "[]";
        break;
      }
      out += '[';
      for (std::size_t i = 0; i < array.size(); ++i) {
        if (i > 0) out += ',';
        newline(out, style, depth + 1);
        appendValue(out, array[i], style, depth + 1);
      }
      newline(out, style, depth);
      out += ']';
      break;
    }
    case json::kind::object: {
      const json::object& object = value.get_object();
      if (object.empty()) {
        out += "{}";
        break;
      }
      out += '{';
      bool first = true;
      for (const auto& member : object) {
        if (!first) out += ',';
        first = false;
        newline(out, style, depth + 1);
        appendString(out, member.key(), style.escapeHtml);
        out += style.layout == JsonLayout::kIndented ? ": " : ":";
        appendValue(out, member.value(), style, depth + 1);
      }
      newline(out, style, depth);
      out += '}';
      break;
    }
  }
}

// Turns what Boost parsed into what Go's decoder builds for `any`: float64 numbers and
// maps, whose keys Go's encoder then writes sorted.
Status normalizeLikeGo(json::value& value) {
  switch (value.kind()) {
    case json::kind::int64: value = static_cast<double>(value.get_int64()); break;
    case json::kind::uint64: value = static_cast<double>(value.get_uint64()); break;
    case json::kind::double_:
      if (!std::isfinite(value.get_double())) return Error{"json: cannot unmarshal number into Go value of type float64"};
      break;
    case json::kind::array:
      for (json::value& element : value.get_array()) WEFT_TRY(normalizeLikeGo(element));
      break;
    case json::kind::object: {
      json::object& object = value.get_object();
      std::vector<json::key_value_pair*> members;
      members.reserve(object.size());
      for (json::key_value_pair& member : object) members.push_back(&member);
      std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
      json::object sorted(object.storage());
      sorted.reserve(members.size());
      for (json::key_value_pair* member : members) {
        WEFT_TRY(normalizeLikeGo(member->value()));
        sorted.emplace(member->key(), std::move(member->value()));
      }
      object = std::move(sorted);
      break;
    }
    default: break;
  }
  return {};
}

}  // namespace

std::string toGoJson(const json::value& value, JsonStyle style) {
  std::string out;
  out.reserve(512);
  appendValue(out, value, style, 0);
  return out;
}

Result<json::value> decodeJsonLikeGo(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxDecodeDepth;
  options.allow_invalid_utf8 = true;  // Go's decoder substitutes U+FFFD instead of failing
  json::stream_parser parser({}, options);
  boost::system::error_code ec;
  parser.write_some(body.data(), body.size(), ec);  // stops after the first complete value
  if (!ec && !parser.done()) parser.finish(ec);
  if (ec) return Error{ec.message()};
  json::value value = parser.release();
  WEFT_TRY(normalizeLikeGo(value));
  return value;
}

}  // namespace weft::httpbin
