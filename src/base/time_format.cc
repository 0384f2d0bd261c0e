#include "base/time_format.h"

#include <ctime>

namespace weft {
namespace {

std::string strftimeUtc(SystemTime t, const char* format) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  size_t len = std::strftime(buffer, sizeof buffer, format, &tm);
  return std::string(buffer, len);
}

}  // namespace

std::string formatRfc3339(SystemTime t) { return strftimeUtc(t, "%Y-%m-%dT%H:%M:%SZ"); }
std::string formatUtc(SystemTime t) { return strftimeUtc(t, "%Y-%m-%d %H:%M:%S UTC"); }
std::string formatDate(SystemTime t) { return strftimeUtc(t, "%Y-%m-%d"); }

std::optional<SystemTime> parseRfc3339(std::string_view text) {
  std::tm tm{};
  std::string copy(text);
  const char* end = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace weft
