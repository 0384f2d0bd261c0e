#pragma once
// Per-request telemetry of the gateway and the waypoint: one Envoy default-format access log
// line, and Istio's standard request metrics (istio_requests_total and the histograms
// istio_request_duration_milliseconds, istio_request_bytes, istio_response_bytes) reported
// as the source, as Istio's gateways report them, or by a waypoint (reporter "waypoint",
// the client's principal as the source). A gRPC request (content-type application/grpc*)
// is labelled request_protocol "grpc" with its grpc-status, as Istio labels it.

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace weft::proxy {

struct RequestRecord {
  std::chrono::system_clock::time_point start;
  std::string method;
  std::string path;
  std::string protocol = "HTTP/1.1";
  unsigned responseCode = 0;
  std::string responseFlags;  // "-", "NR", "UH", "UF", "UT", "DC"
  uint64_t bytesReceived = 0;
  uint64_t bytesSent = 0;
  uint64_t durationMs = 0;
  std::string upstreamServiceTime;  // "-" when there was no upstream
  std::string forwardedFor, userAgent, requestId, authority, upstreamHost;
  std::string requestedServerName;  // the TLS client's SNI, when the gateway saw one (JSON only)
  // For the metrics.
  std::string destinationService;  // host of the cluster, "unknown" without one
  std::string destinationServiceNamespace;
  // At a waypoint: the client's SPIFFE identity from the HBONE peer certificate; the
  // metrics then name the client as the source (Istio's waypoint does so). Empty at a
  // gateway, whose own workload is the source.
  std::string sourcePrincipal;
  bool grpc = false;
  std::string grpcStatus;  // the answer's grpc-status ("" when it had none)
};

// Whether a request's content-type makes it gRPC (application/grpc, application/grpc+proto...).
bool isGrpcContentType(std::string_view contentType);

// Envoy's default format:
// [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
// %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
// "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
std::string accessLogLine(const RequestRecord& r);
// The same fields as one JSON object per line, with the keys of Istio's JSON access log
// (MeshConfig accessLogEncoding: JSON).
std::string accessLogJson(const RequestRecord& r);

// A connection a TCP or TLS-passthrough route relayed as bytes (istio_tcp_* metrics).
struct TcpConnectionRecord {
  std::string destinationService;  // host of the cluster, "unknown" without one
  std::string destinationServiceNamespace;
  std::string responseFlags = "-";  // "-", "UH", "UF", "NR"
  uint64_t bytesSent = 0;      // to the client
  uint64_t bytesReceived = 0;  // from the client
  std::string sourcePrincipal;  // at a waypoint, the client's (as RequestRecord's); else empty
};

struct SourceWorkload {
  std::string workload;   // the gateway's Deployment
  std::string ns;
  std::string app;        // canonical name
  std::string version = "unknown";
  std::string principal = "unknown";
  std::string cluster = "Kubernetes";
  std::string reporter = "source";  // "waypoint" at a waypoint
};

// Thread-safe: requests record on the io thread, Prometheus scrapes on the admin thread.
class RequestMetrics {
 public:
  explicit RequestMetrics(SourceWorkload source) : source_(std::move(source)) {}
  // The proxy's own SPIFFE ID once it holds its certificate (source_principal of a gateway).
  void setSourcePrincipal(std::string principal) {
    std::lock_guard lock(mutex_);
    source_.principal = std::move(principal);
  }
  void record(const RequestRecord& r);
  // A relayed connection when its upstream is chosen, its bytes while it lasts (what came
  // since the last report), and when it ends (with the bytes not reported yet).
  void tcpOpened(const TcpConnectionRecord& r);
  void tcpBytes(const TcpConnectionRecord& r);
  void tcpClosed(const TcpConnectionRecord& r);
  std::string prometheusText() const;

  // Istio's default buckets: milliseconds for durations, powers of ten for body sizes.
  static constexpr std::array<double, 19> kBuckets{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
  static constexpr std::array<double, 10> kByteBuckets{1, 10, 100, 1000, 10000, 100000, 1e6, 1e7, 1e8, 1e9};

 private:
  // service, ns, code, flags, source principal, grpc, grpc status
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, bool, std::string>;
  // The same key as views: every request looks its series up with one, and only a new
  // series copies the strings (this runs once per request).
  using KeyView = std::tuple<std::string_view, std::string_view, std::string_view, std::string_view, std::string_view, bool, std::string_view>;
  static KeyView viewOf(const KeyView& key) { return key; }
  static KeyView viewOf(const Key& key) {
    return std::apply([](const auto&... field) { return KeyView{field...}; }, key);
  }
  struct KeyLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return viewOf(a) < viewOf(b);
    }
  };
  template <size_t N>
  struct Histogram {
    double sum = 0;
    std::array<uint64_t, N> buckets{};
    void observe(double value, const std::array<double, N>& bounds);
  };
  struct Series {
    uint64_t count = 0;
    Histogram<kBuckets.size()> duration;
    Histogram<kByteBuckets.size()> requestBytes, responseBytes;
  };
  std::string labels(const Key& key) const;
  static std::string peerLabels(const SourceWorkload& source, const std::string& service, const std::string& ns);
  using TcpKey = std::tuple<std::string, std::string, std::string, std::string>;  // service, ns, flags, source principal
  // This proxy as the source, or at a waypoint the client `principal` names.
  SourceWorkload sourceFor(const std::string& principal) const;
  struct TcpTotals {
    uint64_t opened = 0, closed = 0, sent = 0, received = 0;
  };
  template <size_t N>
  static void appendHistogram(std::string& out, const char* name, const std::string& labels, const Histogram<N>& h,
                              const std::array<double, N>& bounds, uint64_t count);

  SourceWorkload source_;
  mutable std::mutex mutex_;
  std::map<Key, Series, KeyLess> series_;
  std::map<TcpKey, TcpTotals> tcp_;
};

}  // namespace weft::proxy
