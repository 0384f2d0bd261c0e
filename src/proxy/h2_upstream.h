#pragma once
// HTTP/2 towards upstream endpoints (h2c with prior knowledge): per endpoint, a few
// connections, each carrying many requests at once as streams. One exchange is one whole
// request in and one whole response out (head, body, trailers), like the HTTP/1.1 path, so
// the gateway's retries, outlier detection and telemetry see the same shapes.
//
// With `Limits::responseMayStream`, a response whose body is large (a Content-Length over
// 64 KiB), unsized or gRPC (a stream of messages of unknown count) comes back as soon as its
// head has: the exchange's `body` yields DATA as it arrives and then the trailers. Its
// stream's flow-control window is opened only as the body is taken, so a slow reader holds
// back the peer rather than filling memory; a body dropped before its end resets the
// stream (CANCEL). The route's deadline covers the body too, and each wait for more of it
// is bounded by the body timeout.
//
// With `Limits::requestBody`, the request's body follows from there as the client sends it
// (kSendHighWater queued at most, paced by the peer's window), while the answer may already
// be coming: both directions at once, as bidirectional gRPC needs. A client body that
// breaks off resets the stream.
//
// A connection runs over plain TCP to the endpoint (h2c, or TLS with ALPN h2 when the
// cluster has a DestinationRule tls rule, upstream_tls.h), or, for an endpoint in the mesh, over
// one HBONE CONNECT stream to it through its node's ztunnel (tunnel_upstream.h), handed
// over as a socket-pair end: the far ztunnel relays the stream's bytes to the pod's port as
// they are, so h2c with prior knowledge runs inside unchanged and mTLS is HBONE's. Both are
// one generic stream socket, so everything below is one code path. The two kinds never
// share connections: the pool key of a tunnelled one carries the endpoint's identity.
//
// Framing, HPACK, flow control and the protocol's defences are nghttp2's through
// hbone::H2Codec (sans-I/O); this file owns sockets, connection choice and time:
//  - a connection takes new streams while it has fewer open than the peer's
//    SETTINGS_MAX_CONCURRENT_STREAMS (and stream ids left); when every connection is full,
//    another is opened. A connection still connecting takes waiters up to nghttp2's
//    assumption of 100 streams.
//  - a GOAWAY from the peer, a read/write error or a codec failure takes the connection out
//    of use: streams the peer will not process (above its last stream id, or all of them on
//    an error) fail as resets, so a retry policy with `reset` can send them again.
//  - a connection with no stream for the idle timeout is closed.
//  - the attempt's deadline bounds connect, send and wait; a stream that outlives it is
//    reset (CANCEL) and the exchange reports a timeout. Opening an HBONE stream is the
//    exception, bounded only by the HBONE pool's timeouts, as on the HTTP/1.1 path
//    (tunnel_upstream.h); a late one is a connect failure.
//
// Invariants: every method runs on the io_context's thread; a connection's state is shared
// by its reader, its writer and the exchanges waiting on it (shared_ptr), so none of them
// outlives what it touches. Response bodies are bounded (kMaxBodyBytes); a larger one
// resets its stream and fails as a reset.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hbone/h2_codec.h"
#include "proxy/streamed_body.h"
#include "weft/v1/discovery.pb.h"

namespace weft::proxy {

class TunnelUpstream;  // tunnel_upstream.h
class UpstreamTls;     // upstream_tls.h

// Where an exchange goes, and what its connections run over.
struct H2Destination {
  std::string endpoint;  // "ip:port"
  // Empty: plain TCP to `endpoint`. Else the endpoint is in the mesh and is reached only
  // inside HBONE streams opened by `tunnels`, the ztunnel's certificate checked against this
  // SPIFFE ID; without `tunnels` (the proxy holds no certificate yet) the exchange fails as a
  // connect failure, never in plaintext.
  std::string hboneIdentity;
  TunnelUpstream* tunnels = nullptr;  // borrowed: the gateway's, outlives the pool
  // For an endpoint outside the mesh: TLS with this rule (ALPN h2) and SNI, or h2c when
  // null. Borrowed from the config the request pinned; a connection keeps only the SSL
  // context, which OpenSSL counts references to.
  const UpstreamTls* tls = nullptr;
  std::string sni{};

  // Connections are shared by exchanges with equal keys.
  std::string poolKey() const;
};

struct H2UpstreamOptions {
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds idleTimeout{std::chrono::hours(1)};  // Istio's http.idleTimeout default
  std::chrono::milliseconds bodyTimeout{60000};  // each wait for more of a streamed response body
};

struct H2UpstreamCounters {
  uint64_t connections = 0;      // opened successfully
  uint64_t tunnelled = 0;        // of those, inside an HBONE stream
  uint64_t tlsFailures = 0;      // TLS handshakes (or server certificate checks) that failed
  uint64_t connectFailures = 0;
  uint64_t streams = 0;          // requests sent
  uint64_t goaways = 0;          // GOAWAY frames received
  uint64_t protocolErrors = 0;   // connections ended by a codec failure
  uint64_t idleClosed = 0;
};

// What one request on HTTP/2 came to. The kinds match the gateway's TryStatus.
struct H2Exchange {
  enum class Status { kOk, kConnectFailure, kReset, kTimeout };
  Status status = Status::kOk;
  boost::beast::http::response<boost::beast::http::string_body> response;  // version 11
  hbone::Headers trailers;  // a trailing HEADERS block (gRPC's grpc-status), lower case
  std::string failureReason;  // a connect failure's, when known (a TLS error, say)
  bool tlsFailed = false;     // this exchange's own connection failed its TLS handshake
  // Set when the body streams: `response` is the head alone, and the trailers come with
  // the body (StreamedBody::trailers) instead of in `trailers`.
  std::unique_ptr<StreamedBody> body;
  // A sender for Limits::requestBody was started: whatever happened, the request cannot be
  // sent again (that sender may hold, or still take, the body's next piece).
  bool requestBodyClaimed = false;
};

class H2UpstreamPool {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  H2UpstreamPool(boost::asio::io_context& io, H2UpstreamOptions options);
  ~H2UpstreamPool();
  H2UpstreamPool(const H2UpstreamPool&) = delete;
  H2UpstreamPool& operator=(const H2UpstreamPool&) = delete;

  // The cluster's connection-pool settings that apply here, and how bodies may flow.
  struct Limits {
    std::chrono::milliseconds connectTimeout{0};  // 0: the pool's
    uint32_t maxRequestsPerConnection = 0;        // 0: no limit; then the connection drains
    std::chrono::milliseconds idleTimeout{0};     // 0: the pool's; read when a connection opens
    // 0: none; a connection this old takes no new stream and closes when its last one ends.
    std::chrono::milliseconds maxConnectionDuration{0};
    bool responseMayStream = false;               // this caller can take a body in pieces
    // The request's body, to follow in pieces (the request's own body is then empty); kept
    // alive by the stream's sender for as long as it sends.
    std::shared_ptr<StreamedBody> requestBody;
  };

  // Sends `request` to `destination` and waits for the whole response. The request is
  // turned into frames before the first suspension; the caller keeps it alive for the call
  // anyway (as the gateway's retries do).
  boost::asio::awaitable<H2Exchange> exchange(H2Destination destination, const Request& request,
                                              std::optional<std::chrono::steady_clock::time_point> deadline, Limits limits);

  // Closes every connection; exchanges in flight fail as resets.
  void clear();
  // Connections open or connecting under `poolKey` (H2Destination::poolKey; tests).
  size_t connectionCount(const std::string& poolKey) const;
  const H2UpstreamCounters& counters() const { return *counters_; }

  struct Connection;  // h2_upstream.cc

 private:
  // A connection that takes another stream now or once connected, or nullptr. Connections
  // older than `maxConnectionDuration` (0: no limit) are set draining first.
  std::shared_ptr<Connection> pick(const std::string& poolKey, std::chrono::milliseconds maxConnectionDuration);
  // Connects `connection` (connect() below), then starts its loops and wakes its waiters,
  // or closes it with the failure recorded for them.
  boost::asio::awaitable<void> establish(std::shared_ptr<Connection> connection, H2Destination destination, Limits limits);
  // Makes `connection`'s transport: TCP within the connect timeout and the deadline, or an
  // HBONE stream (bounded by the HBONE pool's timeouts, as on HTTP/1.1). kOk, or the
  // failure's kind.
  boost::asio::awaitable<H2Exchange::Status> connect(std::shared_ptr<Connection> connection, H2Destination destination,
                                                     std::optional<std::chrono::steady_clock::time_point> deadline, Limits limits,
                                                     std::string& failureReason);
  // TLS on a connected TCP `connection`, finished by `by` (destination.tls set).
  boost::asio::awaitable<H2Exchange::Status> handshake(std::shared_ptr<Connection> connection, const H2Destination& destination,
                                                       std::chrono::steady_clock::time_point by, std::string& failureReason);
  // The request as a stream on a connected `connection`, and its whole answer.
  boost::asio::awaitable<H2Exchange> send(std::shared_ptr<Connection> connection, hbone::Headers headers, hbone::H2Codec::RequestHead head,
                                          std::string body, std::optional<std::chrono::steady_clock::time_point> deadline, Limits limits);

  boost::asio::io_context& io_;
  H2UpstreamOptions options_;
  std::shared_ptr<H2UpstreamCounters> counters_;  // connections outlive the pool's last look
  std::map<std::string, std::vector<std::shared_ptr<Connection>>> connections_;  // by pool key
};

// Whether an attempt to a cluster with these pool settings goes over HTTP/2: the cluster
// says HTTP2, or CLIENT and the client spoke HTTP/2 (its request's version is
// kHttp2Version, h2_downstream.h).
bool usesHttp2Upstream(const weft::v1::ConnectionPool& pool, unsigned requestVersion);
H2UpstreamPool::Limits h2LimitsOf(const weft::v1::ConnectionPool& pool);

// HTTP/2 request headers for a Beast request (the gateway's, after its edits): pseudo
// headers from the method, target and Host; names lower-cased; connection-specific fields
// and Host dropped; `te: trailers` for gRPC, which requires it (RFC 9113 §8.2.2 allows
// only that value). Exposed for tests.
hbone::Headers http2RequestHeaders(const H2UpstreamPool::Request& request, hbone::H2Codec::RequestHead& head);

}  // namespace weft::proxy
