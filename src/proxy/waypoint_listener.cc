#include "proxy/waypoint_listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "hbone/authority.h"
#include "hbone/relay.h"

namespace weft::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

WaypointListener::WaypointListener(asio::io_context& io, GatewayServer& server) : io_(io), server_(server), acceptor_(io) {
  options_.open = std::make_shared<hbone::OpenConnections>();
}

Status WaypointListener::bind(uint16_t port) {
  boost::system::error_code ec;
  tcp::endpoint at{asio::ip::address_v4::any(), port};
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return makeError("waypoint: HBONE listener on 0.0.0.0:{}: {}", port, ec.message());
  asio::co_spawn(io_, acceptLoop(), asio::detached);
  return {};
}

uint16_t WaypointListener::port() const {
  boost::system::error_code ec;
  auto at = acceptor_.local_endpoint(ec);
  return ec ? 0 : at.port();
}

Status WaypointListener::setCredentials(const hbone::TlsCredentials& credentials, std::string trustDomain) {
  auto context = hbone::makeServerTlsContext(credentials);
  if (!context) return context.error().wrap("waypoint certificate");
  tls_ = std::move(*context);
  options_.trustDomain = std::move(trustDomain);
  return {};
}

void WaypointListener::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  options_.open->goAway();
}

asio::awaitable<void> WaypointListener::acceptLoop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      spdlog::warn("waypoint: accept on {}: {}", port(), ec.message());
      continue;
    }
    if (tls_ == nullptr) continue;  // no certificate yet: closed as it goes out of scope
    hbone::ConnectHandler handler = [this](hbone::ConnectRequest request) { return onConnect(std::move(request)); };
    asio::co_spawn(io_, hbone::serveHboneConnection(std::move(socket), tls_, std::move(handler), options_, counters_), asio::detached);
  }
}

asio::awaitable<hbone::ConnectDecision> WaypointListener::onConnect(hbone::ConnectRequest request) {
  // Normalised, so "198.19.0.10:8000" however the client spelled it.
  std::string authority = hbone::formatAuthority(request.target);
  if (server_.config()->waypointTarget(authority) == nullptr) {
    spdlog::debug("waypoint: CONNECT to {} from {}: no Service of this waypoint there", authority, request.peerIdentity);
    co_return hbone::ConnectDecision::refuse(503);
  }
  GatewayServer::TunnelPeer peer{std::move(authority), request.peerEndpoint.address().to_string(), std::move(request.peerIdentity)};
  co_return hbone::ConnectDecision::serveWith(
      [this, peer = std::move(peer)](hbone::HboneStream& stream) { return carry(stream, peer); });
}

asio::awaitable<hbone::RelayResult> WaypointListener::carry(hbone::HboneStream& stream, GatewayServer::TunnelPeer peer) {
  asio::local::stream_protocol::socket ours(io_), theirs(io_);
  boost::system::error_code ec;
  asio::local::connect_pair(ours, theirs, ec);
  if (ec) {
    hbone::RelayResult failed;
    failed.error = "socket pair: " + ec.message();
    stream.reset(0x2);  // INTERNAL_ERROR: the client must not wait for an answer
    co_return failed;
  }
  asio::co_spawn(io_, server_.serveTunnel(std::move(theirs), std::move(peer)), asio::detached);
  hbone::RelayResult relayed = co_await hbone::relay(ours, stream);
  co_return relayed;
}

}  // namespace weft::proxy
