#include "httpbin/go_parse.h"

#include <charconv>
#include <limits>

namespace weft::httpbin {
namespace {

constexpr std::uint64_t kDurationLimit = std::uint64_t{1} << 63;  // |time.Duration| bound

bool isDigit(char c) { return c >= '0' && c <= '9'; }

Error syntaxError(std::string_view function, std::string_view text) {
  return makeError("strconv.{}: parsing {}: invalid syntax", function, goQuote(text));
}

Result<std::int64_t> parseDecimal(std::string_view function, std::string_view text) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return syntaxError(function, text);
  std::uint64_t magnitude = 0;
  bool overflow = false;
  for (char c : digits) {
    if (!isDigit(c)) return syntaxError(function, text);
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      overflow = true;  // keep scanning: a later bad character is still a syntax error
    } else {
      magnitude = magnitude * 10 + digit;
    }
  }
  const std::uint64_t limit = negative ? kDurationLimit : kDurationLimit - 1;
  if (overflow || magnitude > limit) return makeError("strconv.{}: parsing {}: value out of range", function, goQuote(text));
  return negative ? static_cast<std::int64_t>(~magnitude + 1) : static_cast<std::int64_t>(magnitude);
}

// The digits at the front of `s` (time.leadingInt); false on overflow past 1<<63.
bool leadingInt(std::string_view& s, std::uint64_t& value) {
  value = 0;
  std::size_t i = 0;
  for (; i < s.size() && isDigit(s[i]); ++i) {
    if (value > kDurationLimit / 10) return false;
    value = value * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (value > kDurationLimit) return false;
  }
  s.remove_prefix(i);
  return true;
}

// Digits after a decimal point (time.leadingFraction): digits past int64 precision are
// consumed but ignored.
void leadingFraction(std::string_view& s, std::uint64_t& value, double& scale) {
  value = 0;
  scale = 1;
  bool overflow = false;
  std::size_t i = 0;
  for (; i < s.size() && isDigit(s[i]); ++i) {
    if (overflow) continue;
    if (value > (kDurationLimit - 1) / 10) {
      overflow = true;
      continue;
    }
    const std::uint64_t next = value * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (next > kDurationLimit) {
      overflow = true;
      continue;
    }
    value = next;
    scale *= 10;
  }
  s.remove_prefix(i);
}

std::uint64_t unitNanoseconds(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1000;  // us, µs (U+00B5), μs (U+03BC)
  if (unit == "ms") return 1000 * 1000;
  if (unit == "s") return 1000 * 1000 * 1000;
  if (unit == "m") return std::uint64_t{60} * 1000 * 1000 * 1000;
  if (unit == "h") return std::uint64_t{3600} * 1000 * 1000 * 1000;
  return 0;
}

// ".125" for 125 with 3 digits of precision: the fraction of value/10^precision without
// trailing zeros, and nothing when it is zero (time.fmtFrac).
std::string fraction(std::uint64_t& value, int precision) {
  std::string digits;
  bool significant = false;
  for (int i = 0; i < precision; ++i) {
    const auto digit = static_cast<char>('0' + value % 10);
    significant = significant || digit != '0';
    if (significant) digits.insert(digits.begin(), digit);
    value /= 10;
  }
  return significant ? "." + digits : "";
}

}  // namespace

Result<std::int64_t> goAtoi(std::string_view text) { return parseDecimal("Atoi", text); }

Result<std::int64_t> goParseInt(std::string_view text) { return parseDecimal("ParseInt", text); }

Result<double> goParseFloat(std::string_view text) {
  std::string_view number = text;
  if (!number.empty() && number[0] == '+') number.remove_prefix(1);  // Go allows it; from_chars does not
  if (number.empty() || number[0] == '+') return syntaxError("ParseFloat", text);
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec == std::errc::result_out_of_range) return makeError("strconv.ParseFloat: parsing {}: value out of range", goQuote(text));
  if (ec != std::errc() || end != number.data() + number.size() || number.find('(') != std::string_view::npos) {
    return syntaxError("ParseFloat", text);  // '(' refuses from_chars's "nan(...)", which Go does not know
  }
  return value;
}

Result<std::chrono::nanoseconds> goParseDuration(std::string_view text) {
  auto invalid = [&] { return makeError("time: invalid duration {}", goQuote(text)); };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds{0};
  if (s.empty()) return invalid();
  std::uint64_t total = 0;
  while (!s.empty()) {
    if (s[0] != '.' && !isDigit(s[0])) return invalid();
    std::uint64_t whole = 0;
    const std::size_t before = s.size();
    if (!leadingInt(s, whole)) return invalid();
    const bool hasWhole = s.size() != before;
    std::uint64_t frac = 0;
    double scale = 1;
    bool hasFraction = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      const std::size_t afterDot = s.size();
      leadingFraction(s, frac, scale);
      hasFraction = s.size() != afterDot;
    }
    if (!hasWhole && !hasFraction) return invalid();
    std::size_t unitLength = 0;
    while (unitLength < s.size() && s[unitLength] != '.' && !isDigit(s[unitLength])) ++unitLength;
    if (unitLength == 0) return makeError("time: missing unit in duration {}", goQuote(text));
    const std::string_view unitName = s.substr(0, unitLength);
    s.remove_prefix(unitLength);
    const std::uint64_t unit = unitNanoseconds(unitName);
    if (unit == 0) return makeError("time: unknown unit {} in duration {}", goQuote(unitName), goQuote(text));
    if (whole > kDurationLimit / unit) return invalid();
    whole *= unit;
    if (frac > 0) {
      whole += static_cast<std::uint64_t>(static_cast<double>(frac) * (static_cast<double>(unit) / scale));
      if (whole > kDurationLimit) return invalid();
    }
    total += whole;
    if (total > kDurationLimit) return invalid();
  }
  if (negative) return std::chrono::nanoseconds{static_cast<std::int64_t>(~total + 1)};
  if (total > kDurationLimit - 1) return invalid();
  return std::chrono::nanoseconds{static_cast<std::int64_t>(total)};
}

std::string goFormatDuration(std::chrono::nanoseconds duration) {
  const std::int64_t count = duration.count();
  std::uint64_t u = count < 0 ? ~static_cast<std::uint64_t>(count) + 1 : static_cast<std::uint64_t>(count);
  const std::string sign = count < 0 ? "-" : "";
  constexpr std::uint64_t kSecond = 1000 * 1000 * 1000;
  if (u == 0) return "0s";
  if (u < kSecond) {
    // Below a second Go switches to the largest unit that keeps a leading digit: 1.2ms.
    const char* unit = u < 1000 ? "ns" : u < 1000 * 1000 ? "\xC2\xB5s" : "ms";
    const int precision = u < 1000 ? 0 : u < 1000 * 1000 ? 3 : 6;
    std::string frac = fraction(u, precision);
    return sign + std::to_string(u) + frac + unit;
  }
  std::string frac = fraction(u, 9);  // u is now whole seconds
  std::string out = std::to_string(u % 60) + frac + "s";
  const std::uint64_t minutes = u / 60;
  if (minutes > 0) {
    out = std::to_string(minutes % 60) + "m" + out;
    if (minutes / 60 > 0) out = std::to_string(minutes / 60) + "h" + out;
  }
  return sign + out;
}

std::string goQuote(std::string_view text) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;  // printable ASCII, and UTF-8 passed through as Go prints valid runes
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace weft::httpbin
