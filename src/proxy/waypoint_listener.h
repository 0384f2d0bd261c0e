#pragma once
// The waypoint's way in: HBONE on 15008 (mutual TLS 1.3 with the waypoint's own workload
// certificate, ALPN h2, one CONNECT per client connection, src/hbone's server). A CONNECT
// whose authority ("VIP:port") names a Service this waypoint serves is answered 200 and
// its bytes go, through a socket pair, to GatewayServer::serveTunnel: the gateway's
// HTTP/1.1 session, routing and policy, with the HBONE peer's identity as the client's
// principal (the client's ztunnel presents the client's certificate). Any other authority
// is refused with 503 before a byte is carried. Inside the tunnel the session is HTTP/1.1, or
// HTTP/2 when the client's bytes open with the h2c preface (prior knowledge).
//
// Why a socket pair rather than a stream adapter: the Beast session code then serves TCP,
// TLS and HBONE alike, at the cost of one extra copy through the kernel per byte.
//
// Threads: everything on the io_context's thread; setCertificate() too (post to it).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

#include "base/result.h"
#include "hbone/hbone_counters.h"
#include "hbone/hbone_server.h"
#include "hbone/tls_context.h"
#include "proxy/gateway_server.h"

namespace weft::proxy {

inline constexpr uint16_t kHbonePort = 15008;

class WaypointListener {
 public:
  WaypointListener(boost::asio::io_context& io, GatewayServer& server);

  // Binds 0.0.0.0:`port` (0 in tests: see port()); a failure fails start-up.
  Status bind(uint16_t port = kHbonePort);
  uint16_t port() const;
  // The waypoint's certificate: connections accepted from now on present it, and their
  // clients must hold certificates of `trustDomain`. Until the first one arrives,
  // connections are closed at once.
  Status setCredentials(const hbone::TlsCredentials& credentials, std::string trustDomain);
  bool ready() const { return acceptor_.is_open() && tls_ != nullptr; }
  // Draining: no new HBONE connections, and a GOAWAY on each open one, whose tunnels
  // carry on while the clients' ztunnels open new ones elsewhere.
  void stop();
  const hbone::HboneCounters& counters() const { return counters_; }

 private:
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<hbone::ConnectDecision> onConnect(hbone::ConnectRequest request);
  // One accepted tunnel: the HTTP session on one end of a socket pair, the stream relayed
  // to the other. `stream` is the hbone server's, alive until this returns.
  boost::asio::awaitable<hbone::RelayResult> carry(hbone::HboneStream& stream, GatewayServer::TunnelPeer peer);

  boost::asio::io_context& io_;
  GatewayServer& server_;
  hbone::ServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  hbone::HboneCounters counters_;
};

}  // namespace weft::proxy
