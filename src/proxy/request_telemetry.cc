#include "proxy/request_telemetry.h"

#include <cctype>
#include <charconv>

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

namespace weft::proxy {

namespace {

std::string orDash(const std::string& s) { return s.empty() ? "-" : s; }

// Prometheus label values escape backslash, quote and newline.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The short name and namespace of "<name>.<ns>.svc.cluster.local"; the host itself otherwise.
std::string serviceName(const std::string& host) {
  auto dot = host.find('.');
  return host.ends_with(".svc.cluster.local") && dot != std::string::npos ? host.substr(0, dot) : host;
}

}  // namespace

std::string accessLogLine(const RequestRecord& r) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.start.time_since_epoch()).count() % 1000;
  return fmt::format("[{:%Y-%m-%dT%H:%M:%S}.{:03d}Z] \"{} {} {}\" {} {} {} {} {} {} \"{}\" \"{}\" \"{}\" \"{}\" \"{}\"\n",
                     std::chrono::time_point_cast<std::chrono::seconds>(r.start), ms, orDash(r.method), orDash(r.path), r.protocol,
                     r.responseCode, orDash(r.responseFlags), r.bytesReceived, r.bytesSent, r.durationMs, orDash(r.upstreamServiceTime),
                     orDash(r.forwardedFor), orDash(r.userAgent), orDash(r.requestId), orDash(r.authority), orDash(r.upstreamHost));
}

std::string accessLogJson(const RequestRecord& r) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.start.time_since_epoch()).count() % 1000;
  auto orNull = [](const std::string& s) { return s.empty() || s == "-" ? boost::json::value(nullptr) : boost::json::value(s); };
  boost::json::object o;
  o["start_time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", std::chrono::time_point_cast<std::chrono::seconds>(r.start), ms);
  o["method"] = orNull(r.method);
  o["path"] = orNull(r.path);
  o["protocol"] = r.protocol;
  o["response_code"] = r.responseCode;
  o["response_flags"] = orNull(r.responseFlags);
  o["bytes_received"] = r.bytesReceived;
  o["bytes_sent"] = r.bytesSent;
  o["duration"] = r.durationMs;
  o["upstream_service_time"] = orNull(r.upstreamServiceTime);
  o["x_forwarded_for"] = orNull(r.forwardedFor);
  o["user_agent"] = orNull(r.userAgent);
  o["request_id"] = orNull(r.requestId);
  o["authority"] = orNull(r.authority);
  o["requested_server_name"] = orNull(r.requestedServerName);
  o["upstream_host"] = orNull(r.upstreamHost);
  return boost::json::serialize(o) + "\n";
}

bool isGrpcContentType(std::string_view contentType) {
  constexpr std::string_view kGrpc = "application/grpc";
  if (contentType.size() < kGrpc.size()) return false;
  for (size_t i = 0; i < kGrpc.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(contentType[i])) != kGrpc[i]) return false;
  }
  // application/grpc, application/grpc+proto, application/grpc;charset...; not application/grpc-web.
  return contentType.size() == kGrpc.size() || contentType[kGrpc.size()] == '+' || contentType[kGrpc.size()] == ';';
}

template <size_t N>
void RequestMetrics::Histogram<N>::observe(double value, const std::array<double, N>& bounds) {
  sum += value;
  for (size_t i = 0; i < N; ++i) {
    if (value <= bounds[i]) ++buckets[i];
  }
}

void RequestMetrics::record(const RequestRecord& r) {
  char code[16];
  auto codeEnd = std::to_chars(code, code + sizeof code, r.responseCode).ptr;
  KeyView key{r.destinationService.empty() ? std::string_view("unknown") : std::string_view(r.destinationService),
              r.destinationServiceNamespace.empty() ? std::string_view("unknown") : std::string_view(r.destinationServiceNamespace),
              std::string_view(code, static_cast<size_t>(codeEnd - code)),
              r.responseFlags.empty() ? std::string_view("-") : std::string_view(r.responseFlags), r.sourcePrincipal, r.grpc,
              r.grpc ? std::string_view(r.grpcStatus) : std::string_view()};
  std::lock_guard lock(mutex_);
  auto found = series_.find(key);
  if (found == series_.end()) {
    auto owned = [](const auto& field) {
      if constexpr (std::is_same_v<std::decay_t<decltype(field)>, bool>) {
        return field;
      } else {
        return std::string(field);
      }
    };
    found = series_.emplace(std::apply([&](const auto&... field) { return Key{owned(field)...}; }, key), Series{}).first;
  }
  auto& s = found->second;
  ++s.count;
  s.duration.observe(static_cast<double>(r.durationMs), kBuckets);
  s.requestBytes.observe(static_cast<double>(r.bytesReceived), kByteBuckets);
  s.responseBytes.observe(static_cast<double>(r.bytesSent), kByteBuckets);
}

std::string RequestMetrics::labels(const Key& key) const {
  const auto& [service, ns, code, flags, principal, grpc, grpcStatus] = key;
  SourceWorkload source = sourceFor(principal);
  return fmt::format("{},request_protocol=\"{}\",response_code=\"{}\",grpc_response_status=\"{}\",response_flags=\"{}\","
                     "connection_security_policy=\"unknown\"",
                     peerLabels(source, service, ns), grpc ? "grpc" : "http", code, escape(grpcStatus), escape(flags));
}

SourceWorkload RequestMetrics::sourceFor(const std::string& principal) const {
  // A waypoint knows its client by the HBONE peer certificate only: its principal and the
  // namespace in it; the client's workload name is not carried.
  SourceWorkload source = source_;
  if (!principal.empty()) {
    auto at = principal.find("/ns/");
    auto end = at == std::string::npos ? std::string::npos : principal.find('/', at + 4);
    source.ns = at == std::string::npos ? "unknown" : principal.substr(at + 4, end == std::string::npos ? std::string::npos : end - at - 4);
    source.workload = source.app = source.version = "unknown";
    source.principal = principal;
  }
  return source;
}

// The source and destination labels every metric of the proxy carries.
std::string RequestMetrics::peerLabels(const SourceWorkload& source, const std::string& service, const std::string& ns) {
  return fmt::format(
      "reporter=\"{}\",source_workload=\"{}\",source_workload_namespace=\"{}\",source_principal=\"{}\",source_app=\"{}\","
      "source_version=\"{}\",source_cluster=\"{}\",destination_workload=\"unknown\",destination_workload_namespace=\"unknown\","
      "destination_principal=\"unknown\",destination_app=\"unknown\",destination_version=\"unknown\",destination_service=\"{}\","
      "destination_service_name=\"{}\",destination_service_namespace=\"{}\",destination_cluster=\"unknown\"",
      escape(source.reporter), escape(source.workload), escape(source.ns), escape(source.principal), escape(source.app), escape(source.version),
      escape(source.cluster), escape(service), escape(serviceName(service)), escape(ns));
}

void RequestMetrics::tcpOpened(const TcpConnectionRecord& r) {
  std::lock_guard lock(mutex_);
  ++tcp_[TcpKey{r.destinationService, r.destinationServiceNamespace, r.responseFlags, r.sourcePrincipal}].opened;
}

void RequestMetrics::tcpBytes(const TcpConnectionRecord& r) {
  std::lock_guard lock(mutex_);
  auto& totals = tcp_[TcpKey{r.destinationService, r.destinationServiceNamespace, r.responseFlags, r.sourcePrincipal}];
  totals.sent += r.bytesSent;
  totals.received += r.bytesReceived;
}

void RequestMetrics::tcpClosed(const TcpConnectionRecord& r) {
  std::lock_guard lock(mutex_);
  auto& totals = tcp_[TcpKey{r.destinationService, r.destinationServiceNamespace, r.responseFlags, r.sourcePrincipal}];
  ++totals.closed;
  totals.sent += r.bytesSent;
  totals.received += r.bytesReceived;
}

template <size_t N>
void RequestMetrics::appendHistogram(std::string& out, const char* name, const std::string& labels, const Histogram<N>& h,
                                     const std::array<double, N>& bounds, uint64_t count) {
  for (size_t i = 0; i < N; ++i) out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, bounds[i], h.buckets[i]);
  out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, count);
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels, h.sum);
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, count);
}

std::string RequestMetrics::prometheusText() const {
  std::lock_guard lock(mutex_);
  std::string out = "# HELP istio_requests_total Requests handled by the gateway.\n# TYPE istio_requests_total counter\n";
  for (const auto& [key, s] : series_) out += fmt::format("istio_requests_total{{{}}} {}\n", labels(key), s.count);
  // Each histogram's samples together, as the exposition format wants them.
  std::map<Key, std::string> labelsOf;
  for (const auto& [key, s] : series_) labelsOf.emplace(key, labels(key));
  out += "# HELP istio_request_duration_milliseconds Request durations.\n# TYPE istio_request_duration_milliseconds histogram\n";
  for (const auto& [key, s] : series_) appendHistogram(out, "istio_request_duration_milliseconds", labelsOf[key], s.duration, kBuckets, s.count);
  out += "# HELP istio_request_bytes Request body sizes.\n# TYPE istio_request_bytes histogram\n";
  for (const auto& [key, s] : series_) appendHistogram(out, "istio_request_bytes", labelsOf[key], s.requestBytes, kByteBuckets, s.count);
  out += "# HELP istio_response_bytes Response body sizes.\n# TYPE istio_response_bytes histogram\n";
  for (const auto& [key, s] : series_) appendHistogram(out, "istio_response_bytes", labelsOf[key], s.responseBytes, kByteBuckets, s.count);
  // Connections relayed as bytes (TCP and TLS passthrough routes), as Istio's TCP metrics.
  const std::pair<const char*, uint64_t TcpTotals::*> tcpCounters[] = {
      {"istio_tcp_connections_opened_total", &TcpTotals::opened},
      {"istio_tcp_connections_closed_total", &TcpTotals::closed},
      {"istio_tcp_sent_bytes_total", &TcpTotals::sent},
      {"istio_tcp_received_bytes_total", &TcpTotals::received},
  };
  for (const auto& [name, field] : tcpCounters) {
    if (tcp_.empty()) break;
    out += fmt::format("# TYPE {} counter\n", name);
    for (const auto& [key, totals] : tcp_) {
      const auto& [service, ns, flags, principal] = key;
      out += fmt::format("{}{{{},request_protocol=\"tcp\",response_flags=\"{}\",connection_security_policy=\"unknown\"}} {}\n", name,
                         peerLabels(sourceFor(principal), service, ns), escape(flags), totals.*field);
    }
  }
  return out;
}

}  // namespace weft::proxy
