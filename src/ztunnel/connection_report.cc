#include "ztunnel/connection_report.h"

#include <fmt/format.h>

namespace weft::ztunnel {
namespace {

void field(std::string& out, std::string_view key, const std::string& value, bool quote = false) {
  if (value.empty()) return;
  out += quote ? fmt::format(" {}={:?}", key, value) : fmt::format(" {}={}", key, value);
}

}  // namespace

std::string accessLogLine(const ConnectionReport& r) {
  std::string out = r.error.empty() ? "connection complete" : "connection failed";
  field(out, "src.addr", r.source.address);
  field(out, "src.workload", r.source.workload, true);
  field(out, "src.namespace", r.source.ns, true);
  field(out, "src.identity", r.source.principal == "unknown" ? "" : r.source.principal, true);
  field(out, "dst.addr", r.destination.address);
  field(out, "dst.service", r.destinationService == "unknown" ? "" : r.destinationService, true);
  field(out, "dst.workload", r.destination.workload, true);
  field(out, "dst.namespace", r.destination.ns, true);
  field(out, "dst.identity", r.destination.principal == "unknown" ? "" : r.destination.principal, true);
  field(out, "direction", r.direction, true);
  field(out, "response_flags", r.responseFlags == "-" ? "" : r.responseFlags, true);
  out += fmt::format(" bytes_sent={} bytes_recv={}", r.requestBytes, r.responseBytes);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - r.started).count();
  out += fmt::format(" duration=\"{}ms\"", ms);
  field(out, "error", r.error, true);
  return out;
}

}  // namespace weft::ztunnel
