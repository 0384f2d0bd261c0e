#include "proxy/tunnel_upstream.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/local/connect_pair.hpp>

#include "hbone/relay.h"

namespace weft::proxy {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

hbone::PoolOptions poolOptions(std::chrono::milliseconds connectTimeout) {
  hbone::PoolOptions options;
  options.connectTimeout = connectTimeout;
  options.handshakeTimeout = connectTimeout;
  options.connectAnswerTimeout = connectTimeout;  // the tunnel is part of connecting
  return options;
}

// Runs until both directions of the tunnel ended; owns the stream and its end of the pair.
asio::awaitable<void> carry(std::unique_ptr<hbone::HboneStream> stream, local::socket theirs) {
  hbone::RelayResult relayed = co_await hbone::relay(theirs, *stream);
  if (!relayed.ok()) spdlog::debug("waypoint: upstream tunnel ended: {}", relayed.error);
}

}  // namespace

TunnelUpstream::TunnelUpstream(asio::io_context& io, std::chrono::milliseconds connectTimeout, uint16_t serverPort)
    : io_(io),
      serverPort_(serverPort), pool_(std::make_unique<hbone::HbonePool>(io.get_executor(), poolOptions(connectTimeout), counters_)) {}

TunnelUpstream::~TunnelUpstream() = default;

Status TunnelUpstream::setCredentials(const hbone::TlsCredentials& credentials, std::string identity) {
  auto tls = hbone::makeClientTlsContext(credentials);
  if (!tls) return tls.error().wrap("the waypoint's HBONE client certificate");
  // Connections opened with the old certificate keep it until they idle out; new ones use
  // this, since the TLS context is part of the connection, not of the pool key.
  tls_ = *tls;
  identity_ = std::move(identity);
  return {};
}

void TunnelUpstream::stop() { pool_->closeAll(); }

asio::awaitable<Result<local::socket>> TunnelUpstream::open(std::string endpoint, std::string identity) {
  if (tls_ == nullptr) co_return makeError("no workload certificate yet for HBONE to {}", endpoint);
  auto colon = endpoint.rfind(':');
  boost::system::error_code parseError;
  auto address = asio::ip::make_address(endpoint.substr(0, colon == std::string::npos ? 0 : colon), parseError);
  if (colon == std::string::npos || parseError) co_return makeError("endpoint {} is not ip:port", endpoint);
  hbone::ConnectTarget target;
  target.sourceIdentity = identity_;
  target.destinationIdentity = identity;
  target.destinationIp = address;
  target.peer = {address, serverPort_};
  target.authority = endpoint;
  target.tls = tls_;
  target.expectedServerIds = {identity};
  hbone::ConnectResult connected = co_await pool_->connect(std::move(target));
  if (!connected) {
    if (connected.status() != 0) ++refused_;
    co_return makeError("HBONE to {} as {}: {}{}", endpoint, identity, connected.error().message,
                        connected.status() != 0 ? fmt::format(" (answered {})", connected.status()) : "");
  }
  local::socket ours(io_), theirs(io_);
  boost::system::error_code pairError;
  asio::local::connect_pair(ours, theirs, pairError);
  if (pairError) {
    connected->reset(0x2);  // INTERNAL_ERROR
    co_return makeError("socket pair for HBONE to {}: {}", endpoint, pairError.message());
  }
  std::unique_ptr<hbone::HboneStream> stream = std::move(connected.value());
  asio::co_spawn(io_, carry(std::move(stream), std::move(theirs)), asio::detached);
  co_return std::move(ours);
}

}  // namespace weft::proxy
