#include "ztunnel/tcp_metrics.h"

#include <fmt/format.h>

namespace weft::ztunnel {
namespace {

std::string orUnknown(const std::string& value) { return value.empty() ? "unknown" : value; }

// Prometheus label values escape backslash, quote and newline.
std::string escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"' || c == '\n') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

}  // namespace

std::string standardLabels(const ConnectionReport& r) {
  const std::pair<const char*, std::string> labels[] = {
      {"reporter", r.reporter},
      {"source_workload", orUnknown(r.source.workload)},
      {"source_workload_namespace", orUnknown(r.source.ns)},
      {"source_principal", orUnknown(r.source.principal)},
      {"source_app", orUnknown(r.source.app)},
      {"source_version", orUnknown(r.source.version)},
      {"destination_workload", orUnknown(r.destination.workload)},
      {"destination_workload_namespace", orUnknown(r.destination.ns)},
      {"destination_principal", orUnknown(r.destination.principal)},
      {"destination_app", orUnknown(r.destination.app)},
      {"destination_version", orUnknown(r.destination.version)},
      {"destination_service", orUnknown(r.destinationService)},
      {"destination_service_name", orUnknown(r.destinationServiceName)},
      {"destination_service_namespace", orUnknown(r.destinationServiceNamespace)},
      {"request_protocol", "tcp"},
      {"response_flags", r.responseFlags.empty() ? "-" : r.responseFlags},
      {"connection_security_policy", r.mutualTls ? "mutual_tls" : "unknown"},
  };
  std::string out = "{";
  for (const auto& [key, value] : labels) out += fmt::format("{}{}=\"{}\"", out.size() > 1 ? "," : "", key, escaped(value));
  return out + "}";
}

void TcpMetrics::opened(const ConnectionReport& report) {
  std::lock_guard lock(mutex_);
  ++byLabels_[standardLabels(report)].opened;
}

void TcpMetrics::closed(const ConnectionReport& report) {
  std::lock_guard lock(mutex_);
  auto& totals = byLabels_[standardLabels(report)];
  ++totals.closed;
  // Istio's names are the server's view: "sent" is the response, "received" the request.
  totals.sent += report.responseBytes;
  totals.received += report.requestBytes;
}

void TcpMetrics::count(const std::string& name, const std::string& reason, uint64_t by) {
  std::lock_guard lock(mutex_);
  counters_[{name, reason}] += by;
}

std::string TcpMetrics::prometheusText(const std::string& extra) const {
  std::lock_guard lock(mutex_);
  std::string out = "# TYPE istio_build gauge\nistio_build{component=\"ztunnel\",tag=\"0.1.0\"} 1\n";
  struct Family {
    const char* name;
    const char* help;
    uint64_t Totals::*field;
  };
  const Family families[] = {
      {"istio_tcp_connections_opened_total", "The total number of TCP connections opened", &Totals::opened},
      {"istio_tcp_connections_closed_total", "The total number of TCP connections closed", &Totals::closed},
      {"istio_tcp_sent_bytes_total", "The size of total bytes sent during response in case of a TCP connection", &Totals::sent},
      {"istio_tcp_received_bytes_total", "The size of total bytes received during request in case of a TCP connection", &Totals::received},
  };
  for (const auto& family : families) {
    out += fmt::format("# HELP {} {}.\n# TYPE {} counter\n", family.name, family.help, family.name);
    for (const auto& [labels, totals] : byLabels_) out += fmt::format("{}{} {}\n", family.name, labels, totals.*family.field);
  }
  std::string lastName;
  for (const auto& [key, value] : counters_) {
    if (key.first != lastName) out += fmt::format("# TYPE {} counter\n", key.first);
    lastName = key.first;
    out += fmt::format("{}{{reason=\"{}\"}} {}\n", key.first, escaped(key.second), value);
  }
  return out + extra;
}

}  // namespace weft::ztunnel
