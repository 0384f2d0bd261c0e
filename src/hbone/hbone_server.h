#pragma once
// The HBONE server side of one accepted connection (reference §1.2, §1.3, §1.6): mutual
// TLS 1.3 with ALPN h2 and a client from our trust domain, then HTTP/2 where every stream
// must be a CONNECT to "IP:port". Each good CONNECT goes to the handler, which decides:
// an upstream socket (answer 200 and relay both ways), a server of its own for the bytes
// (answer 200 and hand it the stream: the waypoint) or a refusal status (401 denied,
// 503 no upstream). Malformed requests get 400 without reaching the handler.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "hbone/h2_codec.h"
#include "hbone/hbone_counters.h"
#include "hbone/open_connections.h"
#include "hbone/relay.h"

namespace weft::hbone {

struct ConnectRequest {
  boost::asio::ip::tcp::endpoint target;       // the parsed :authority
  std::string authority;                       // as received
  Headers headers;                             // non-pseudo headers: forwarded, baggage, traceparent...
  std::string peerIdentity;                    // the client's verified SPIFFE ID URI
  boost::asio::ip::tcp::endpoint peerEndpoint; // the client's TCP address
  int32_t streamId = 0;
};

// How a stream ended, for metrics and the access log.
struct StreamReport {
  int status = 0;              // what we answered
  uint64_t bytesFromPeer = 0;  // HBONE client -> upstream
  uint64_t bytesToPeer = 0;    // upstream -> HBONE client
  FirstClose firstClose = FirstClose::kNeither;
  std::string error;           // empty when the tunnel ended cleanly
  std::chrono::steady_clock::duration duration{};
};

// Serves an accepted tunnel's bytes in process (the waypoint's HTTP sessions) instead of
// relaying them to an upstream socket; the stream ends when it returns.
using StreamServer = std::function<boost::asio::awaitable<RelayResult>(HboneStream& stream)>;

struct ConnectDecision {
  std::optional<boost::asio::ip::tcp::socket> upstream;  // connected: answer 200 and relay
  StreamServer serve;                                    // or: answer 200 and hand the stream to it
  int status = 503;                                      // neither: answer this and end
  Headers responseHeaders;                               // e.g. the server's baggage
  std::function<void(const StreamReport&)> onFinished;  // called once, when the stream is done

  static ConnectDecision accept(boost::asio::ip::tcp::socket upstream) {
    ConnectDecision decision;
    decision.upstream.emplace(std::move(upstream));
    decision.status = 200;
    return decision;
  }
  static ConnectDecision serveWith(StreamServer server) {
    ConnectDecision decision;
    decision.serve = std::move(server);
    decision.status = 200;
    return decision;
  }
  static ConnectDecision refuse(int status) {
    ConnectDecision decision;
    decision.status = status;
    return decision;
  }
};

// Called on the connection's io_context once per good CONNECT. May take its time (RBAC,
// upstream connect); the client waits for the answer.
using ConnectHandler = std::function<boost::asio::awaitable<ConnectDecision>(ConnectRequest)>;

struct ServerOptions {
  std::string trustDomain = "cluster.local";
  std::chrono::milliseconds handshakeTimeout{10000};
  H2Settings h2 = H2Settings::server();
  size_t streamSendHighWater = 256u << 10;
  // When set, the connection is listed there for as long as it runs (a draining GOAWAY).
  std::shared_ptr<OpenConnections> open;
};

// Serves one accepted TCP connection until it closes, including every stream it carried:
// when this returns, no coroutine it started is still running. `counters` must outlive it.
boost::asio::awaitable<void> serveHboneConnection(boost::asio::ip::tcp::socket socket,
                                                  std::shared_ptr<boost::asio::ssl::context> tls,
                                                  ConnectHandler handler, ServerOptions options,
                                                  HboneCounters& counters);

}  // namespace weft::hbone
