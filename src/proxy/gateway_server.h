#pragma once
// The gateway's traffic side: one acceptor per listener port (0.0.0.0 in the pod's network
// namespace), client sessions in HTTP/1.1 (Beast's parser) or HTTP/2 (h2c with prior
// knowledge, or ALPN h2 over TLS; h2_downstream.h) on one io_context, routing by the current
// ProxyConfig and forwarding over pooled plain-TCP HTTP/1.1 upstream connections, or over
// HTTP/2 for clusters that speak it (h2_upstream.h), with the route's timeout and retries.
//
// Threads: every method runs on the io_context's thread (the Gateway posts to it). A
// request pins the config it started with.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <unordered_map>
#include <functional>
#include <sys/socket.h>

#include "base/result.h"
#include "proxy/client_hello.h"
#include "proxy/cluster_state.h"
#include "proxy/h2_downstream.h"
#include "proxy/h2_upstream.h"
#include "proxy/proxy_config.h"
#include "proxy/rate_limiter.h"
#include "proxy/request_telemetry.h"
#include "proxy/streamed_body.h"
#include "proxy/tunnel_upstream.h"
#include "proxy/upstream_pool.h"

namespace weft::proxy {

struct ServerOptions {
  std::chrono::milliseconds headerTimeout{15000};  // a client must send its head within this
  std::chrono::milliseconds bodyTimeout{60000};
  std::chrono::milliseconds connectTimeout{5000};
  // How long a streamed HTTP/2 body (either way) may be quiet before its stream is given up:
  // Envoy's stream_idle_timeout. Long gRPC streams are quiet for minutes.
  std::chrono::milliseconds streamIdleTimeout{300000};
  uint16_t hboneServerPort = 15008;  // where a mesh endpoint's ztunnel takes HBONE (tests move it)
  // How often a relayed connection's bytes so far go to the istio_tcp_* byte counters
  // (Istio's proxies report every 15 s; the rest is counted when it ends).
  std::chrono::milliseconds tcpReportInterval{15000};
  // Idle upstream HTTP/1.1 connections kept, per kind (TCP, TLS, HBONE tunnel); the
  // gateway sizes it from its descriptor limit.
  size_t maxIdleUpstream = UpstreamPool::kDefaultMaxIdle;
};

class GatewayServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  GatewayServer(boost::asio::io_context& io, RequestMetrics& metrics, ServerOptions options);

  // Binds every port of `config` not bound yet and closes those it no longer has. A port
  // that cannot be bound is an error and nothing is changed.
  Status applyListeners(const ProxyConfig& config);
  void setConfig(std::shared_ptr<const ProxyConfig> config) { config_ = std::move(config); }
  const std::shared_ptr<const ProxyConfig>& config() const { return config_; }

  // Who sent a waypoint's HBONE tunnel, and where to.
  struct TunnelPeer {
    std::string authority;  // the CONNECT's "VIP:port": picks the WaypointTarget
    std::string address;    // the HBONE client's IP (the client pod's, through its ztunnel)
    std::string identity;   // the HBONE peer certificate's SPIFFE ID: the original client's
  };
  // The waypoint's requests: HTTP/1.1 (or h2c) carried by one HBONE stream, handed over as one end of
  // a socket pair (waypoint_listener.cc), served by the same session code as the gateway's
  // listeners, routed by the target the authority names. A target that is a TCP port (or an
  // undeclared one whose first bytes are not HTTP) has its bytes relayed by its TCP route.
  boost::asio::awaitable<void> serveTunnel(boost::asio::local::stream_protocol::socket socket, TunnelPeer peer);
  // Ports actually bound (tests bind 0 through listener port overrides: see boundPort()).
  size_t listenerCount() const { return acceptors_.size(); }
  // The proxy's own workload certificate: from now on, endpoints in the mesh are reached
  // over HBONE with it (tunnel_upstream.h); before it, requests to them fail (503 UF).
  Status setTunnelCredentials(const hbone::TlsCredentials& credentials, std::string identity);
  const TunnelUpstream* tunnels() const { return tunnels_.get(); }
  // Closes the listeners and the upstream pools, and shuts down every client connection
  // still open (its session then ends on its own; nothing is drained).
  void stop();
  // The graceful half of shutting down (Envoy's drain): listeners close, idle keep-alive
  // connections are closed, a request in flight is answered with `Connection: close`,
  // HTTP/2 clients get a GOAWAY and their open streams are answered. Connections end on
  // their own; the caller waits for openConnections() to reach 0 (or its drain time) and
  // then calls stop().
  void drain();
  bool draining() const { return draining_; }
  size_t openConnections() const { return openConnections_.size(); }
  const RateLimiter& rateLimiter() const { return rateLimiter_; }
  // TLS handshakes to upstream endpoints that failed or found the wrong certificate
  // (DestinationRule tls), over HTTP/1.1 and HTTP/2, for the proxy's life. Any thread.
  uint64_t upstreamTlsFailures() const { return upstreamTlsFailures_.load(std::memory_order_relaxed); }
  // Connections to TLS-passthrough ports closed before any route: no well-formed
  // ClientHello within the header timeout, or no route for its SNI (and no server on the
  // port to terminate it). Any thread.
  uint64_t passthroughRefused() const { return passthroughRefused_.load(std::memory_order_relaxed); }

 private:
  struct Outcome {
    Response response;
    std::string flags = "-";
    std::string upstreamHost;
    std::string service, serviceNamespace;
    std::string upstreamTime;
    hbone::Headers trailers;    // the upstream's (HTTP/2 only); sent on to HTTP/2 clients
    bool fromUpstream = false;  // false: the gateway answered itself (local reply)
    // Set when the upstream's body follows in pieces (streamed_body.h): `response` is then
    // the head alone, its framing the upstream's Content-Length or none (unknown length).
    std::unique_ptr<StreamedBody> body;
  };
  // One set of kinds for attempts over HTTP/1.1 and HTTP/2 (h2_upstream.h).
  using TryStatus = H2Exchange::Status;
  struct TryResult {
    TryStatus status = TryStatus::kOk;
    Response response;
    hbone::Headers trailers;
    std::string failureReason;  // a connect failure's, for the 503's body (Envoy's "transport failure reason")
    std::unique_ptr<StreamedBody> body;  // the rest of the response, when it is streamed
    bool clientBodyFailed = false;       // the client's streamed request body broke off: not the upstream's fault
    bool requestBodyClaimed = false;     // an HTTP/2 sender took the streamed request body: no retry
  };

  boost::asio::awaitable<void> acceptLoop(std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor, uint32_t port);
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket, uint32_t port);
  // Who is on the other end of a client connection.
  struct Downstream {
    std::string address;
    bool secure = false;   // TLS
    std::string identity;  // a client certificate's SPIFFE ID (MUTUAL) or the HBONE peer's, else ""
    std::string sni;
    std::string waypointAuthority;  // set for a waypoint's tunnel: routes by its WaypointTarget
    // The address the client connected to (`destination.ip`): the listener's own address, or
    // for a waypoint's tunnel the address its authority names (a Service VIP or a pod).
    std::string localAddress;
  };
  // One client connection's requests, in order, over plain TCP or TLS.
  template <class Stream>
  boost::asio::awaitable<void> serve(Stream& stream, uint32_t port, Downstream downstream);
  // Whether a plain connection opens with the HTTP/2 preface (h2c with prior knowledge).
  // Any socket that can be peeked: TCP, or a waypoint tunnel's end of a socket pair.
  template <class Socket>
  boost::asio::awaitable<bool> opensWithHttp2Preface(Socket& socket);
  // One HTTP/2 client connection (h2c, or TLS with ALPN h2): see h2_downstream.h.
  template <class Stream>
  boost::asio::awaitable<void> serveHttp2Client(Stream& stream, uint32_t port, Downstream downstream);
  boost::asio::awaitable<H2Answer> answerStream(Request request, uint32_t port, Downstream downstream, std::shared_ptr<StreamedBody> requestBody);
  // The request's record for metrics and the access log: begun once the request is whole
  // (it also gives the request its x-request-id), finished with the answer (and logged).
  RequestRecord startRecord(Request& request, std::chrono::system_clock::time_point start, const char* protocol);
  void finishRecord(RequestRecord& record, const Outcome& outcome, std::chrono::steady_clock::time_point startSteady,
                    const Downstream& downstream);
  // How one request's bodies may flow (streamed_body.h).
  struct BodyFlow {
    StreamedBody* request = nullptr;  // the client's request body still to be read, when it streams
    bool responseMayStream = false;   // a large, unsized (or gRPC) response body may be left to stream
    // `request` shared, for an HTTP/2 upstream's sender, which may outlive this request's
    // handling: an HTTP/2 client's body, or an HTTP/1.1 client's lent (loaned_body.h).
    std::shared_ptr<StreamedBody> requestOwner;
  };
  boost::asio::awaitable<Outcome> handle(Request request, uint32_t port, Downstream downstream, BodyFlow flow);
  boost::asio::awaitable<Outcome> forward(Request request, std::shared_ptr<const ProxyConfig> config, const CompiledRoute* route, std::string peer,
                                          bool secure, BodyFlow flow);
  // Where one attempt goes and how it gets there.
  struct Target {
    std::string endpoint;       // "ip:port"
    std::string hboneIdentity;  // non-empty: a mesh endpoint, over HBONE checking this SPIFFE ID
    // Else TLS with the cluster's rule (upstream_tls.h), or plain TCP when null and
    // `tlsError` is empty. `tlsError`: the rule cannot be used, so the attempt fails.
    const UpstreamTls* tls = nullptr;
    std::string tlsError;
    std::string sni;
  };
  Target targetFor(const std::string& clusterName, const weft::v1::Cluster& cluster, std::string endpoint, const Request& request,
                   const ProxyConfig& config);
  // The ISTIO_MUTUAL rule of `cluster`, made from the proxy's workload certificate, or an error.
  Result<const UpstreamTls*> istioMutualTls(const std::string& clusterName, const weft::v1::Cluster& cluster, const ProxyConfig& config);
  // `request` is the caller's, alive across the attempt (retries send it again).
  // With `flow.request`, the request's body is relayed from the client as the upstream
  // takes it; with `flow.responseMayStream`, a large or unsized response body is left to
  // stream (TryResult::body).
  boost::asio::awaitable<TryResult> tryOnce(Target target, const Request& request,
                                            std::optional<std::chrono::steady_clock::time_point> deadline,
                                            const weft::v1::ConnectionPool& limits, BodyFlow flow);
  // One request on a pooled or new connection of `pool`'s kind (TCP, TLS or an HBONE tunnel).
  template <class Connection>
  boost::asio::awaitable<TryResult> exchange(BasicUpstreamPool<Connection>& pool, std::string poolKey, const Target& target,
                                             const Request& request, std::optional<std::chrono::steady_clock::time_point> deadline,
                                             const weft::v1::ConnectionPool& limits, BodyFlow flow);
  // A new connection of `Connection`'s kind to `target`, connected (and its TLS or tunnel
  // set up) within the connect timeout and the deadline; kOk or the failure's kind, with
  // its reason in `reason`.
  template <class Connection>
  boost::asio::awaitable<TryStatus> open(std::optional<Connection>& into, const Target& target,
                                         std::optional<std::chrono::steady_clock::time_point> deadline,
                                         const weft::v1::ConnectionPool& limits, std::string& reason);
  boost::asio::awaitable<TryStatus> connectTcp(TimedSocket& socket, const std::string& endpoint, std::chrono::steady_clock::time_point connectBy,
                                               std::optional<std::chrono::steady_clock::time_point> deadline);
  // A byte stream for a TCP or TLS-passthrough route (gateway_tcp.cc): plain TCP, or an
  // HBONE tunnel to a mesh endpoint; one of the two is set on kOk.
  struct RelayUpstream {
    std::optional<PooledConnection> tcp;
    std::optional<PooledTunnel> tunnel;
  };
  boost::asio::awaitable<TryStatus> openForRelay(RelayUpstream& into, const Target& target, const weft::v1::ConnectionPool& limits,
                                                 std::string& reason);
  // The ClientHello of a connection to a port with TLS-passthrough routes (a gateway's
  // socket, or a waypoint tunnel's end), peeked (the bytes stay for the backend) within the
  // header timeout; a client silent for `silentFor` (if set) gives up sooner (kNeedMore).
  template <class Socket>
  boost::asio::awaitable<ClientHelloScan> peekClientHello(Socket& socket,
                                                          std::optional<std::chrono::steady_clock::duration> silentFor = std::nullopt);
  // One connection a TCP or TLS-passthrough route takes: an endpoint of one of its
  // clusters (by weight, then the cluster's load balancer), connected within the connect
  // timeout, then bytes both ways until both sides end; istio_tcp_* metrics and one access
  // log line. Without an endpoint or a connection, the client's connection is closed.
  // `client`: its address and SNI; at a waypoint its HBONE identity and the authority that
  // picked the target, whose policies (else the gateway's own) decide with a connection's
  // fields only (http_authorization.h). `port`: the listener's, or the waypoint's Service port.
  // `Socket`: a TCP client, or a waypoint tunnel's end of a socket pair.
  template <class Socket>
  boost::asio::awaitable<void> relayConnection(Socket socket, std::shared_ptr<const ProxyConfig> config, const CompiledTcpRoute* route,
                                               Downstream client, uint32_t port);
  // For a waypoint port that declares no protocol: whether the tunnel's first bytes are HTTP
  // (protocol_sniff.h), peeked so they stay for whichever side reads them. Nothing within a
  // second (a protocol where the server speaks first), or no decision within the header
  // timeout, is not HTTP: relayed as bytes.
  boost::asio::awaitable<bool> tunnelSpeaksHttp(boost::asio::local::stream_protocol::socket& socket);
  // One access log line in the mesh's format, when the mesh asks for one.
  void writeAccessLog(const RequestRecord& record) const;
  // A copy of the request to a mirror cluster, Host suffixed "-shadow"; its answer is
  // dropped and it never delays the real request.
  boost::asio::awaitable<void> mirror(Request request, std::shared_ptr<const ProxyConfig> config, std::string clusterName);

  // Client connections open now, by descriptor, each with how to drain it, so stop() and
  // drain() can end them: each session registers for as long as it runs (its socket
  // outlives the registration). Until a protocol sets its own, draining a connection shuts
  // it down (it carries no request yet).
  struct OpenConnection {
    OpenConnection(std::unordered_map<int, std::function<void()>>& open, int descriptor) : open(open), descriptor(descriptor) {
      open[descriptor] = [descriptor] { ::shutdown(descriptor, SHUT_RDWR); };
    }
    ~OpenConnection() { open.erase(descriptor); }
    OpenConnection(const OpenConnection&) = delete;
    OpenConnection& operator=(const OpenConnection&) = delete;
    std::unordered_map<int, std::function<void()>>& open;
    int descriptor;
  };
  // Sets how the connection on `descriptor` drains, until this goes out of scope (then the
  // default again: the state the setter's callback points at is gone).
  struct DrainHook {
    DrainHook(std::unordered_map<int, std::function<void()>>& open, int descriptor, std::function<void()> drain)
        : open(open), descriptor(descriptor) {
      if (auto found = open.find(descriptor); found != open.end()) found->second = std::move(drain);
    }
    ~DrainHook() {
      if (auto found = open.find(descriptor); found != open.end()) found->second = [d = descriptor] { ::shutdown(d, SHUT_RDWR); };
    }
    DrainHook(const DrainHook&) = delete;
    DrainHook& operator=(const DrainHook&) = delete;
    std::unordered_map<int, std::function<void()>>& open;
    int descriptor;
  };

  boost::asio::io_context& io_;
  RequestMetrics& metrics_;
  ServerOptions options_;
  std::shared_ptr<const ProxyConfig> config_ = ProxyConfig::empty();
  std::map<uint32_t, std::shared_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::unordered_map<int, std::function<void()>> openConnections_;
  bool draining_ = false;
  UpstreamPool pool_{io_.get_executor(), options_.maxIdleUpstream};
  H2UpstreamPool h2Pool_{io_, H2UpstreamOptions{options_.connectTimeout, std::chrono::hours(1), options_.streamIdleTimeout}};  // HTTP/2 clusters
  TunnelPool tunnelPool_{io_.get_executor(), options_.maxIdleUpstream};
  TlsPool tlsPool_{io_.get_executor(), options_.maxIdleUpstream};
  // ISTIO_MUTUAL rules by cluster name, made from the workload certificate (cleared when it
  // changes), each with the rule it was made from and where that rule was last seen: the
  // same message of a snapshot held here is the same rule, a pointer compare per request.
  struct IstioMutual {
    weft::v1::UpstreamTls spec;
    std::shared_ptr<const UpstreamTls> tls;
    const weft::v1::UpstreamTls* seen = nullptr;
    std::shared_ptr<const ProxyConfig> seenIn;  // keeps `seen` from being freed and reused
  };
  std::unordered_map<std::string, IstioMutual> istioMutual_;
  std::optional<hbone::TlsCredentials> workloadCredentials_;
  std::atomic<uint64_t> upstreamTlsFailures_{0};  // read by the stats endpoint's thread
  std::atomic<uint64_t> passthroughRefused_{0};   // the same
  std::unique_ptr<TunnelUpstream> tunnels_;  // once the proxy holds its certificate
  RateLimiter rateLimiter_{io_};
  std::unordered_map<std::string, ClusterState> clusters_;
  uint64_t tlsHandshakeFailures_ = 0;
  H2DownstreamCounters http2Counters_;
  uint64_t authorizationDenials_ = 0;  // by cluster name, for the proxy's life
  std::minstd_rand random_{std::random_device{}()};
};

// The plain answer the gateway gives itself (404 no route, 503 no healthy upstream, ...).
GatewayServer::Response localResponse(unsigned status, std::string body, unsigned version = 11);

}  // namespace weft::proxy
