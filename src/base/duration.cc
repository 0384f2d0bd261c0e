#include "base/duration.h"

#include <array>
#include <cmath>
#include <limits>

namespace weft {
namespace {

struct Unit {
  std::string_view name;
  std::chrono::nanoseconds length;
};

using namespace std::chrono_literals;

// Longest names first so "ms" is not read as "m" followed by garbage.
constexpr std::array kUnits{
    Unit{"ns", 1ns}, Unit{"us", 1us}, Unit{"\xC2\xB5s", 1us}, Unit{"ms", 1ms},
    Unit{"s", 1s},   Unit{"m", 1min}, Unit{"h", 1h},           Unit{"d", 24h},
};

}  // namespace

Result<std::chrono::nanoseconds> parseDuration(std::string_view text, DurationSyntax syntax) {
  auto invalid = [&](std::string_view why) { return makeError("invalid duration \"{}\": {}", text, why); };
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (negative && !syntax.allowNegative) return invalid("must not be negative");
  if (rest == "0") return std::chrono::nanoseconds{0};
  if (rest.empty()) return invalid("empty");

  long double total = 0;
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[digits])) || rest[digits] == '.')) ++digits;
    if (digits == 0) return invalid("expected a number");
    std::string_view number = rest.substr(0, digits);
    if (number.find('.') != number.rfind('.') || number == ".") return invalid("malformed number");
    rest.remove_prefix(digits);

    const Unit* unit = nullptr;
    for (const auto& candidate : kUnits) {
      if (rest.substr(0, candidate.name.size()) == candidate.name &&
          (unit == nullptr || candidate.name.size() > unit->name.size())) {
        unit = &candidate;
      }
    }
    if (unit == nullptr) return invalid("missing unit (one of ns, us, ms, s, m, h)");
    if (unit->name == "d" && !syntax.allowDays) return invalid("unit \"d\" is not accepted here; use h");
    rest.remove_prefix(unit->name.size());
    total += std::stold(std::string(number)) * static_cast<long double>(unit->length.count());
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return invalid("out of range");
  }
  auto count = static_cast<int64_t>(std::llroundl(total));
  return std::chrono::nanoseconds{negative ? -count : count};
}

std::string formatDuration(std::chrono::nanoseconds duration) {
  if (duration.count() == 0) return "0s";
  std::string out;
  if (duration.count() < 0) {
    out = "-";
    duration = -duration;
  }
  if (duration < 1s) {
    if (duration % 1ms == 0ns) return out + fmt::format("{}ms", duration / 1ms);
    if (duration % 1us == 0ns) return out + fmt::format("{}us", duration / 1us);
    return out + fmt::format("{}ns", duration.count());
  }
  auto hours = std::chrono::duration_cast<std::chrono::hours>(duration);
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(duration - hours);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration - hours - minutes);
  auto fraction = duration - hours - minutes - seconds;
  if (hours.count() > 0) out += fmt::format("{}h", hours.count());
  if (minutes.count() > 0) out += fmt::format("{}m", minutes.count());
  if (seconds.count() > 0 || fraction.count() > 0) {
    if (fraction.count() == 0) {
      out += fmt::format("{}s", seconds.count());
    } else {
      out += fmt::format("{}.{:03}s", seconds.count(), fraction / 1ms);
    }
  }
  return out;
}

std::string formatAge(std::chrono::seconds age) {
  using std::chrono::duration_cast;
  if (age < 0s) return "<invalid>";
  auto seconds = age.count();
  auto minutes = seconds / 60, hours = minutes / 60, days = hours / 24;
  if (seconds < 120) return fmt::format("{}s", seconds);
  if (minutes < 10) return seconds % 60 == 0 ? fmt::format("{}m", minutes) : fmt::format("{}m{}s", minutes, seconds % 60);
  if (hours < 3) return fmt::format("{}m", minutes);
  if (hours < 8) return minutes % 60 == 0 ? fmt::format("{}h", hours) : fmt::format("{}h{}m", hours, minutes % 60);
  if (hours < 48) return fmt::format("{}h", hours);
  if (days < 8) return hours % 24 == 0 ? fmt::format("{}d", days) : fmt::format("{}d{}h", days, hours % 24);
  if (days < 365 * 2) return fmt::format("{}d", days);
  return fmt::format("{}y", days / 365);
}

}  // namespace weft
