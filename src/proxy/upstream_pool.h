#pragma once
// Idle upstream HTTP/1.1 connections by endpoint ("ip:port"), reused for the next request
// to that endpoint. io thread only, so no locks. A pooled connection may have been closed
// by the peer meanwhile: the caller retries once on a fresh one when a reused connection
// fails before any response byte.
//
// Three kinds of connection share the code: plain TCP, TLS over TCP (DestinationRule tls,
// upstream_tls.h), and one end of a socket pair whose other end is relayed into an HBONE
// stream (a waypoint's tunnel to a mesh endpoint, tunnel_upstream.h). All have Beast's
// deadline vocabulary on their lowest layer (TimedSocket for TCP, the proxy's hottest path;
// a Beast stream for the socket pair). Keys are the caller's: an endpoint, or for TLS the
// endpoint with the rule and SNI (UpstreamTls::poolKey), so connections made with different
// settings are never shared.

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proxy/timed_socket.h"

namespace weft::proxy {

// A connection with its read buffer (kept for its capacity; always empty when pooled), the
// string its request heads are rendered into (kept for its capacity too) and the number of
// requests it has carried (for maxRequestsPerConnection).
template <class Stream>
struct BasicPooledConnection {
  Stream stream;
  boost::beast::flat_buffer buffer{};
  std::string head{};
  uint32_t requests = 0;
};

using TunnelStream = boost::beast::basic_stream<boost::asio::local::stream_protocol>;
using TlsStream = boost::beast::ssl_stream<TimedSocket>;
using PooledConnection = BasicPooledConnection<TimedSocket>;
using PooledTlsConnection = BasicPooledConnection<TlsStream>;
using PooledTunnel = BasicPooledConnection<TunnelStream>;

template <class Connection>
class BasicUpstreamPool {
 public:
  // Envoy keeps every idle connection; a cap below the requests in flight would close
  // connections that are needed again at once, and churn through ephemeral ports.
  static constexpr size_t kMaxIdlePerEndpoint = 1024;

  std::optional<Connection> take(const std::string& endpoint) {
    auto found = idle_.find(endpoint);
    if (found == idle_.end() || found->second.empty()) return std::nullopt;
    Connection connection = std::move(found->second.back());
    found->second.pop_back();
    return connection;
  }

  void put(const std::string& endpoint, Connection connection) {
    auto& list = idle_[endpoint];
    if (list.size() >= kMaxIdlePerEndpoint) return;  // closed as it goes out of scope
    boost::beast::get_lowest_layer(connection.stream).expires_never();
    list.push_back(std::move(connection));
  }

  void clear() { idle_.clear(); }

 private:
  std::map<std::string, std::vector<Connection>> idle_;
};

using UpstreamPool = BasicUpstreamPool<PooledConnection>;
using TlsPool = BasicUpstreamPool<PooledTlsConnection>;
using TunnelPool = BasicUpstreamPool<PooledTunnel>;

}  // namespace weft::proxy
