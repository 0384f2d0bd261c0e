#include "httpbin/access_log.h"

#include <unistd.h>

#include <cerrno>
#include <ctime>

#include <fmt/format.h>

#include "httpbin/go_parse.h"

namespace weft::httpbin {
namespace {

// A client-controlled field (URI, User-Agent) is cut to this many bytes, so that even
// fully escaped every line stays under PIPE_BUF (4096) and its write(2) stays atomic.
constexpr std::size_t kMaxFieldBytes = 200;

std::string timestamp(std::chrono::system_clock::time_point time) {
  const auto sinceEpoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(sinceEpoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(sinceEpoch - seconds).count();
  const std::time_t whole = seconds.count();
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char text[32];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", std::string_view(text, n), millis);
}

// slog's text handler quotes a value that is empty or holds a space, '=', '"' or a byte
// that is not plain printable ASCII.
std::string logValue(std::string_view value) {
  value = value.substr(0, kMaxFieldBytes);
  bool quote = value.empty();
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    quote = quote || byte <= 0x20 || byte >= 0x7F || c == '=' || c == '"';
  }
  return quote ? goQuote(value) : std::string(value);
}

std::string_view level(int status) {
  if (status >= 500) return "ERROR";
  if (status >= 400) return "WARN";
  return "INFO";
}

}  // namespace

std::string formatAccessLine(const AccessRecord& record) {
  const double milliseconds = std::chrono::duration<double, std::milli>(record.duration).count();
  const std::string method = logValue(record.method.substr(0, 32));
  const std::string message =
      fmt::format("{} {} {} {:.1f}ms", record.status, record.method.substr(0, 32), record.uri.substr(0, kMaxFieldBytes),
                  milliseconds);
  return fmt::format(
      "time={} level={} msg={} status={} method={} uri={} size_bytes={} duration_ms={:.3f} user_agent={} client_ip={}",
      timestamp(record.time), level(record.status), goQuote(message), record.status, method, logValue(record.uri),
      record.sizeBytes, milliseconds, logValue(record.userAgent), logValue(record.clientIp));
}

std::string formatMessageLine(std::chrono::system_clock::time_point time, std::string_view level,
                              std::string_view message) {
  return fmt::format("time={} level={} msg={}", timestamp(time), level, goQuote(message));
}

void writeLogLine(std::string line) {
  line += '\n';
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t written = ::write(STDOUT_FILENO, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace weft::httpbin
