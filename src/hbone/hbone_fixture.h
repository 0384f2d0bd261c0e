#pragma once
// A loopback mesh for hbone tests: an HBONE server on 127.0.0.1 (port 0) whose handler
// connects to the CONNECT target, an echo server to be that target, and a client pool.
// Server and client keep separate counters so each side's refusals can be checked.

#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "hbone/authority.h"
#include "hbone/hbone_client.h"
#include "hbone/hbone_server.h"
#include "hbone/test_support.h"

namespace weft::hbone::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
inline constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

inline const std::string kClientId = "spiffe://cluster.local/ns/default/sa/client";
inline const std::string kServerId = "spiffe://cluster.local/ns/default/sa/server";

// Echoes until EOF, then half-closes: shows half-close crossing the tunnel both ways.
inline asio::awaitable<void> echo(tcp::socket socket) {
  std::vector<char> buffer(64u << 10);
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), kUseTuple);
    if (ec) break;
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(buffer.data(), n), kUseTuple);
    if (wec) co_return;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

inline asio::awaitable<void> acceptLoop(tcp::acceptor& acceptor, std::function<void(tcp::socket)> onSocket) {
  while (true) {
    auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (ec) co_return;
    onSocket(std::move(socket));
  }
}

// Reads until EOF or error; returns what arrived.
inline asio::awaitable<std::string> readAll(HboneStream& stream) {
  std::string all;
  while (true) {
    auto chunk = co_await stream.read();
    if (!chunk || chunk->empty()) co_return all;
    all += *chunk;
  }
}

class HboneLoopback : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mesh_ = new TestMesh(); }
  static void TearDownTestSuite() { delete mesh_; }

  void SetUp() override {
    serverTls_ = makeServerTlsContext(mesh_->issue(kServerId)).value();
    clientTls_ = makeClientTlsContext(mesh_->issue(kClientId)).value();
    handler_ = [this](ConnectRequest request) -> asio::awaitable<ConnectDecision> {
      requests_.push_back(request);
      tcp::socket upstream(io_);
      auto [ec] = co_await upstream.async_connect(request.target, kUseTuple);
      if (ec) co_return ConnectDecision::refuse(503);
      auto decision = ConnectDecision::accept(std::move(upstream));
      decision.responseHeaders = {{"baggage", "k8s.namespace.name=default"}};
      decision.onFinished = [this](const StreamReport& report) { reports_.push_back(report); };
      co_return decision;
    };
    startServers();
  }

  void TearDown() override {
    if (pool_) pool_->closeAll();
    boost::system::error_code ignored;
    hboneAcceptor_.close(ignored);
    echoAcceptor_.close(ignored);
    drain(io_);
    pool_.reset();
    drain(io_);
  }

  void startServers() {
    for (tcp::acceptor* acceptor : {&hboneAcceptor_, &echoAcceptor_}) {
      acceptor->open(tcp::v4());
      acceptor->set_option(tcp::acceptor::reuse_address(true));
      acceptor->bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      acceptor->listen();
    }
    asio::co_spawn(io_, acceptLoop(hboneAcceptor_, [this](tcp::socket socket) {
                     // The handler indirection lets a test swap handler_ after start-up.
                     ConnectHandler handler = [this](ConnectRequest r) { return handler_(std::move(r)); };
                     asio::co_spawn(io_, serveHboneConnection(std::move(socket), serverTls_, handler, serverOptions_, serverCounters_),
                                    asio::detached);
                   }),
                   asio::detached);
    asio::co_spawn(io_, acceptLoop(echoAcceptor_, [this](tcp::socket socket) {
                     asio::co_spawn(io_, echo(std::move(socket)), asio::detached);
                   }),
                   asio::detached);
  }

  HbonePool& pool() {
    if (!pool_) pool_ = std::make_unique<HbonePool>(io_.get_executor(), poolOptions_, clientCounters_);
    return *pool_;
  }

  tcp::endpoint hboneEndpoint() const { return hboneAcceptor_.local_endpoint(); }
  tcp::endpoint echoEndpoint() const { return echoAcceptor_.local_endpoint(); }

  ConnectTarget target(std::string destinationId = kServerId) {
    ConnectTarget t;
    t.sourceIdentity = kClientId;
    t.destinationIdentity = destinationId;
    t.destinationIp = hboneEndpoint().address();
    t.peer = hboneEndpoint();
    t.authority = formatAuthority(echoEndpoint());
    t.headers = {{"forwarded", "for=\"127.0.0.1:4444\""}, {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}};
    t.tls = clientTls_;
    t.expectedServerIds = {kServerId};
    return t;
  }

  // Polls a counter that the other side bumps asynchronously.
  asio::awaitable<uint64_t> waitFor(const HboneCounters::Counter& counter, uint64_t atLeast = 1) {
    asio::steady_timer timer(io_);
    for (int i = 0; i < 100 && counter.load() < atLeast; ++i) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(kUseTuple);
    }
    co_return counter.load();
  }

  asio::awaitable<void> sleep(std::chrono::milliseconds duration) {
    asio::steady_timer timer(io_);
    timer.expires_after(duration);
    co_await timer.async_wait(kUseTuple);
  }

  static TestMesh* mesh_;
  asio::io_context io_;
  tcp::acceptor hboneAcceptor_{io_};
  tcp::acceptor echoAcceptor_{io_};
  std::shared_ptr<asio::ssl::context> serverTls_;
  std::shared_ptr<asio::ssl::context> clientTls_;
  ServerOptions serverOptions_;
  PoolOptions poolOptions_;
  HboneCounters serverCounters_;
  HboneCounters clientCounters_;
  ConnectHandler handler_;
  std::vector<ConnectRequest> requests_;
  std::vector<StreamReport> reports_;
  std::unique_ptr<HbonePool> pool_;
};

inline TestMesh* HboneLoopback::mesh_ = nullptr;

}  // namespace weft::hbone::testing
