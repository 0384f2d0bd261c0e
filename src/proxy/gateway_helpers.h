#pragma once
// Helpers the gateway's two halves share: the client side (gateway_server.cc: sessions,
// routing, local answers) and the upstream side (gateway_upstream.cc: forwarding, retries,
// upstream connections).

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <type_traits>

#include "proxy/gateway_server.h"
#include "proxy/proxy_config.h"
#include "proxy/timed_socket.h"

namespace weft::proxy::detail {

namespace beast = boost::beast;
namespace http = beast::http;

// Hop-by-hop headers (RFC 9110 7.6.1) are the connection's, never forwarded.
constexpr http::field kHopByHop[] = {http::field::connection, http::field::keep_alive, http::field::proxy_connection,
                                     http::field::te, http::field::trailer, http::field::transfer_encoding, http::field::upgrade};

// One pass comparing each field's known-name code: erasing by name would search the
// fields' tree seven times per message, on every request and every response.
template <class Fields>
void dropHopByHop(Fields& fields) {
  for (auto it = fields.begin(); it != fields.end();) {
    if (std::find(std::begin(kHopByHop), std::end(kHopByHop), it->name()) != std::end(kHopByHop)) {
      it = fields.erase(it);
    } else {
      ++it;
    }
  }
}

inline void applyHeaderEdits(http::fields& fields, const weft::v1::HeaderOperations& ops) {
  for (const auto& name : ops.remove()) fields.erase(name);
  for (const auto& [name, value] : ops.set()) fields.set(name, value);
  for (const auto& [name, value] : ops.add()) fields.insert(name, value);
}

// Parses what `buffer` already holds into `parser`, consuming it: the rest of a message
// that arrived with its head, without another trip through the reactor. Running out of
// bytes is not an error (the caller reads on when the parser is not done).
template <class Parser>
beast::error_code parseBuffered(Parser& parser, beast::flat_buffer& buffer) {
  beast::error_code ec;
  while (!parser.is_done() && buffer.size() > 0) {
    size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == http::error::need_more) return {};
    if (ec || used == 0) return ec;
  }
  return ec;
}

// The descriptor under a client connection's stream (TCP, TLS over TCP, or a waypoint
// tunnel's socket-pair end): what the open-connection registry is keyed by.
template <class Stream>
int descriptorOf(Stream& stream) {
  auto& lowest = beast::get_lowest_layer(stream);
  if constexpr (std::is_same_v<std::remove_cvref_t<decltype(lowest)>, TimedSocket>) {
    return lowest.native_handle();
  } else {
    return lowest.socket().native_handle();
  }
}

// The request as routing and hashing read it.
inline RequestView viewOf(const GatewayServer::Request& request, bool secure) {
  return RequestView{request[http::field::host], request.target(),
                     [&request](std::string_view name) -> std::optional<std::string_view> {
                       auto found = request.find(name);
                       if (found == request.end()) return std::nullopt;
                       return found->value();
                     },
                     request.method_string(), secure ? "https" : "http"};
}

// The SPIFFE ID an endpoint of the cluster must present over HBONE, or "" (plain TCP).
inline std::string hboneIdentityOf(const weft::v1::Cluster& cluster, const std::string& endpoint) {
  auto found = cluster.hbone_identities().find(endpoint);
  return found == cluster.hbone_identities().end() ? std::string() : found->second;
}

// One of a route's weighted clusters, drawn by weight ("" when `totalWeight` is 0).
template <class WeightedClusters>
std::string pickWeighted(const WeightedClusters& clusters, uint32_t totalWeight, std::minstd_rand& random) {
  if (totalWeight == 0) return "";
  uint32_t pick = std::uniform_int_distribution<uint32_t>(0, totalWeight - 1)(random);
  for (const auto& c : clusters) {
    if (pick < c.weight()) return c.cluster();
    pick -= c.weight();
  }
  return "";
}

}  // namespace weft::proxy::detail
