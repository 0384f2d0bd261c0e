#pragma once
// weft-httpbin's log lines, in the key=value shape go-httpbin's slog text handler prints:
//   time=2026-01-01T00:00:00.000Z level=INFO msg="200 GET /get 0.3ms" status=200 method=GET
//   uri=/get size_bytes=312 duration_ms=0.31 user_agent=curl/7.88.1 client_ip=10.0.0.7
// Lines go to stdout with one write(2) each, so lines from several worker threads never
// interleave and no lock is taken; tests count them per pod to see load balancing.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace weft::httpbin {

struct AccessRecord {
  std::chrono::system_clock::time_point time;
  int status = 0;
  std::string_view method;
  std::string_view uri;
  std::uint64_t sizeBytes = 0;  // response body bytes written (0 for HEAD)
  std::chrono::nanoseconds duration{0};
  std::string_view userAgent;
  std::string_view clientIp;
};

std::string formatAccessLine(const AccessRecord& record);

// A line with only a level ("INFO", "ERROR") and a message: start-up, shutdown, failures.
std::string formatMessageLine(std::chrono::system_clock::time_point time, std::string_view level,
                              std::string_view message);

// Writes the line and a newline to stdout in one system call; errors are ignored (a log
// that cannot be written must not stop the server).
void writeLogLine(std::string line);

}  // namespace weft::httpbin
