#pragma once
// For in-process tests of HBONE from the proxy to mesh endpoints: an endpoint's ztunnel,
// an HBONE server (src/hbone) on loopback that records who connected where and relays each
// CONNECT stream's bytes to its target untouched, as a pod's ztunnel does.
//
// Threads: the io_context's thread only (tests read `seen()` there, or once it stopped).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hbone/hbone_counters.h"
#include "hbone/hbone_server.h"

namespace weft::proxy::testing {

class StandInZtunnel {
 public:
  explicit StandInZtunnel(boost::asio::io_context& io) : io_(io) {}

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // Serves HBONE with `tls` (the endpoint's certificate) from now on.
  void start(std::shared_ptr<boost::asio::ssl::context> tls) {
    tls_ = std::move(tls);
    boost::asio::co_spawn(io_, acceptLoop(), boost::asio::detached);
  }
  void close() { acceptor_.close(); }
  // (client identity, authority) of every CONNECT asked for, in order.
  const std::vector<std::pair<std::string, std::string>>& seen() const { return seen_; }

 private:
  static constexpr auto kUseTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

  boost::asio::awaitable<void> acceptLoop() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (ec) co_return;
      hbone::ConnectHandler handler = [this](hbone::ConnectRequest request) { return onConnect(std::move(request)); };
      boost::asio::co_spawn(io_, hbone::serveHboneConnection(std::move(socket), tls_, std::move(handler), hbone::ServerOptions{}, counters_),
                            boost::asio::detached);
    }
  }

  boost::asio::awaitable<hbone::ConnectDecision> onConnect(hbone::ConnectRequest request) {
    seen_.push_back({request.peerIdentity, request.authority});
    boost::asio::ip::tcp::socket upstream(io_);
    auto [ec] = co_await upstream.async_connect(request.target, kUseTuple);
    if (ec) co_return hbone::ConnectDecision::refuse(503);
    co_return hbone::ConnectDecision::accept(std::move(upstream));
  }

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::shared_ptr<boost::asio::ssl::context> tls_;
  hbone::HboneCounters counters_;
  std::vector<std::pair<std::string, std::string>> seen_;
};

}  // namespace weft::proxy::testing
