// HBONE client and server end to end over loopback with real certificates.

#include <nghttp2/nghttp2.h>

#include "hbone/h2_connection.h"
#include "hbone/hbone_fixture.h"
#include "hbone/relay.h"

namespace weft::hbone::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(HboneLoopback, EchoThroughTheTunnelWithHalfClose) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto stream = co_await pool().connect(target());
    CO_ASSERT_TRUE(stream.ok());
    EXPECT_EQ(stream.status(), 200);
    EXPECT_EQ(findHeader(stream->responseHeaders(), "baggage"), "k8s.namespace.name=default");
    CO_ASSERT_TRUE((co_await stream->write("hello, ")).ok());
    CO_ASSERT_TRUE((co_await stream->write("mesh")).ok());
    CO_ASSERT_TRUE(stream->closeWrite().ok());
    // The echo server only half-closes after our END_STREAM became its EOF.
    EXPECT_EQ(co_await readAll(**stream), "hello, mesh");
    stream.value().reset();
    co_await waitFor(serverCounters_.streamsClosed);
  });
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].target, echoEndpoint());
  EXPECT_EQ(requests_[0].peerIdentity, kClientId);
  EXPECT_EQ(requests_[0].peerEndpoint.address().to_string(), "127.0.0.1");
  EXPECT_EQ(findHeader(requests_[0].headers, "forwarded"), "for=\"127.0.0.1:4444\"");
  EXPECT_TRUE(findHeader(requests_[0].headers, "traceparent"));
  EXPECT_FALSE(findHeader(requests_[0].headers, ":method")) << "pseudo-headers are not forwarded";
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].status, 200);
  EXPECT_EQ(reports_[0].bytesFromPeer, 11u);
  EXPECT_EQ(reports_[0].bytesToPeer, 11u);
  EXPECT_EQ(reports_[0].firstClose, FirstClose::kStream);
  EXPECT_EQ(reports_[0].error, "");
  EXPECT_EQ(clientCounters_.connectionsOpened.load(), 1u);
  EXPECT_EQ(serverCounters_.streamsOpened.load(), 1u);
  EXPECT_EQ(serverCounters_.bytesIn.load(), 11u);
}

TEST_F(HboneLoopback, RelayCarriesAnAppSocketBothWays) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    // The "app" connects to a local port; the client side relays that socket into a tunnel.
    tcp::acceptor appListener(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket app(io_);
    co_await app.async_connect(appListener.local_endpoint(), kUseTuple);
    auto [aec, captured] = co_await appListener.async_accept(kUseTuple);
    CO_ASSERT_TRUE(!aec);

    auto stream = co_await pool().connect(target());
    CO_ASSERT_TRUE(stream.ok());
    std::optional<RelayResult> relayed;
    asio::co_spawn(io_, [&, s = std::move(stream.value())]() mutable -> asio::awaitable<void> {
      relayed = co_await relay(captured, *s);
    }, asio::detached);

    std::string payload(300000, 'p');
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
    co_await asio::async_write(app, asio::buffer(payload), kUseTuple);
    app.shutdown(tcp::socket::shutdown_send);
    std::string back;
    std::vector<char> buffer(65536);
    while (true) {
      auto [ec, n] = co_await app.async_read_some(asio::buffer(buffer), kUseTuple);
      if (ec) break;
      back.append(buffer.data(), n);
    }
    EXPECT_EQ(back.size(), payload.size());
    EXPECT_TRUE(back == payload);
    for (int i = 0; i < 100 && !relayed; ++i) co_await sleep(10ms);
    CO_ASSERT_TRUE(relayed.has_value());
    EXPECT_TRUE(relayed->ok()) << relayed->error;
    EXPECT_EQ(relayed->socketToStream, payload.size());
    EXPECT_EQ(relayed->streamToSocket, payload.size());
    EXPECT_EQ(relayed->firstClose, FirstClose::kSocket);
  });
}

TEST_F(HboneLoopback, ManyConcurrentStreamsSpreadOverTwoConnections) {
  constexpr int kStreams = 150;
  int opened = 0;
  int echoed = 0;
  int finished = 0;
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    AsyncSignal allOpen(io_.get_executor());
    for (int i = 0; i < kStreams; ++i) {
      asio::co_spawn(io_, [&, i]() -> asio::awaitable<void> {
        auto stream = co_await pool().connect(target());
        if (!stream) {
          ADD_FAILURE() << "stream " << i << ": " << stream.error().message;
          ++opened;
          ++finished;
          allOpen.notify();
          co_return;
        }
        // Hold every stream open until all are: 150 at once needs a second connection.
        ++opened;
        allOpen.notify();
        while (opened < kStreams) co_await allOpen.wait();
        const std::string message = "stream-" + std::to_string(i);
        (void)co_await stream->write(message);
        (void)stream->closeWrite();
        if (co_await readAll(**stream) == message) ++echoed;
        ++finished;
      }, asio::detached);
    }
    for (int i = 0; i < 1500 && opened < kStreams; ++i) co_await sleep(10ms);
    EXPECT_EQ(pool().connectionCount(), 2u);
    for (int i = 0; i < 1500 && finished < kStreams; ++i) co_await sleep(10ms);
    CO_ASSERT_TRUE(finished == kStreams);
  }, 60s);
  EXPECT_EQ(opened, kStreams);
  EXPECT_EQ(echoed, kStreams);
  EXPECT_EQ(clientCounters_.connectionsOpened.load(), 2u);
  EXPECT_EQ(serverCounters_.connectionsOpened.load(), 2u);
}

TEST_F(HboneLoopback, HandlerRefusalReachesTheClientAsItsStatus) {
  handler_ = [](ConnectRequest) -> asio::awaitable<ConnectDecision> { co_return ConnectDecision::refuse(401); };
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto stream = co_await pool().connect(target());
    EXPECT_FALSE(stream.ok());
    EXPECT_EQ(stream.status(), 401);
    EXPECT_NE(stream.error().message.find("401"), std::string::npos) << stream.error().message;
    // The connection is still good for the next stream.
    handler_ = [](ConnectRequest) -> asio::awaitable<ConnectDecision> { co_return ConnectDecision::refuse(503); };
    auto again = co_await pool().connect(target());
    EXPECT_EQ(again.status(), 503);
  });
  EXPECT_EQ(clientCounters_.connectionsOpened.load(), 1u);
  EXPECT_EQ(clientCounters_.connectsRefused.load(), 2u);
  EXPECT_EQ(serverCounters_.connectsRefused.load(), 2u);
}

TEST_F(HboneLoopback, ACONNECTNeverAnsweredGivesUpAndTheNextGoesToANewConnection) {
  // The server's handler sits on its decision for 2 s: the CONNECT has no answer, while
  // the connection itself stays healthy (it answers PINGs).
  poolOptions_.connectAnswerTimeout = std::chrono::milliseconds(200);
  bool stall = true;
  handler_ = [&stall](ConnectRequest request) -> asio::awaitable<ConnectDecision> {
    if (stall) {
      asio::steady_timer wait(co_await asio::this_coro::executor, std::chrono::seconds(2));
      co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return ConnectDecision::refuse(request.authority.empty() ? 400 : 503);
  };
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto stream = co_await pool().connect(target());
    EXPECT_FALSE(stream.ok());
    EXPECT_EQ(stream.status(), 0) << "not the 503 the handler gives once it decides";
    EXPECT_NE(stream.error().message.find("no answer within 200 ms"), std::string::npos) << stream.error().message;
    stall = false;
    auto next = co_await pool().connect(target());
    EXPECT_EQ(next.status(), 503) << "the next CONNECT is answered";
  });
  EXPECT_EQ(clientCounters_.connectTimeouts.load(), 1u);
  EXPECT_EQ(clientCounters_.connectionsOpened.load(), 2u) << "on a new connection: the one that left a stream unanswered got a GOAWAY";
}

TEST_F(HboneLoopback, MalformedAuthorityGets400WithoutReachingTheHandler) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    for (std::string authority : {"echo.default.svc:80", "127.0.0.1", "127.0.0.1:0", "[::1:80"}) {
      auto t = target();
      t.authority = authority;
      auto stream = co_await pool().connect(t);
      EXPECT_EQ(stream.status(), 400) << authority;
    }
  });
  EXPECT_TRUE(requests_.empty());
  EXPECT_EQ(serverCounters_.badConnects.load(), 4u);
}

TEST_F(HboneLoopback, UnreachableUpstreamGets503) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    tcp::acceptor closed(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto t = target();
    t.authority = formatAuthority(closed.local_endpoint());
    closed.close();
    auto stream = co_await pool().connect(t);
    EXPECT_EQ(stream.status(), 503);
  });
}

TEST_F(HboneLoopback, PeerThatNeverReadsStaysBounded) {
  // The upstream pushes 64 MiB; the HBONE client takes nothing. Everything between must
  // stall within windows and the relay's high-water mark, not buffer the 64 MiB.
  tcp::acceptor source(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  uint64_t pushed = 0;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    auto [ec, socket] = co_await source.async_accept(kUseTuple);
    if (ec) co_return;
    std::string block(64u << 10, 's');
    while (pushed < (64u << 20)) {
      auto [wec, n] = co_await asio::async_write(socket, asio::buffer(block), kUseTuple);
      if (wec) co_return;
      pushed += n;
    }
  }, asio::detached);
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto t = target();
    t.authority = formatAuthority(source.local_endpoint());
    auto stream = co_await pool().connect(t);
    CO_ASSERT_TRUE(stream.ok());
    co_await sleep(1500ms);
    const uint64_t stalledAt = pushed;
    co_await sleep(500ms);
    EXPECT_EQ(pushed, stalledAt) << "the source should be stalled by now";
    EXPECT_LT(pushed, 40u << 20) << "only windows and socket buffers may hold data";
    EXPECT_LE(serverCounters_.maxStreamSendQueue.load(), serverOptions_.streamSendHighWater + (64u << 10));
    // Reading resumes the flow.
    auto chunk = co_await stream->read();
    CO_ASSERT_TRUE(chunk.ok());
    EXPECT_FALSE(chunk->empty());
  });
  source.close();
}

TEST_F(HboneLoopback, IdleConnectionsAreClosed) {
  poolOptions_.idleTimeout = 200ms;
  poolOptions_.pingInterval = 50ms;
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    {
      auto stream = co_await pool().connect(target());
      CO_ASSERT_TRUE(stream.ok());
      co_await sleep(400ms);  // busy: pings go back and forth, nothing closes
      EXPECT_EQ(pool().connectionCount(), 1u);
      EXPECT_EQ(clientCounters_.pingTimeouts.load(), 0u);
    }
    for (int i = 0; i < 100 && pool().connectionCount() > 0; ++i) co_await sleep(20ms);
    EXPECT_EQ(pool().connectionCount(), 0u);
  });
  EXPECT_EQ(clientCounters_.idleCloses.load(), 1u);
}

TEST_F(HboneLoopback, UnansweredPingsDropTheConnection) {
  // A TLS peer that completes the handshake and then goes silent.
  tcp::acceptor silent(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::unique_ptr<TlsStream> held;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    auto [ec, socket] = co_await silent.async_accept(kUseTuple);
    if (ec) co_return;
    held = std::make_unique<TlsStream>(std::move(socket), *serverTls_);
    co_await held->async_handshake(asio::ssl::stream_base::server, kUseTuple);
  }, asio::detached);
  poolOptions_.pingInterval = 50ms;
  poolOptions_.pingTimeout = 200ms;
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto t = target();
    t.peer = silent.local_endpoint();
    t.destinationIp = asio::ip::make_address("127.0.0.2");  // its own pool key
    auto stream = co_await pool().connect(t);
    EXPECT_FALSE(stream.ok());
    EXPECT_EQ(stream.status(), 0);
  });
  EXPECT_EQ(clientCounters_.pingTimeouts.load(), 1u);
  silent.close();
  held.reset();
}

}  // namespace
}  // namespace weft::hbone::testing

namespace weft::hbone::testing {
namespace {

// A handler may serve the tunnel's bytes itself (the waypoint does): the client gets 200,
// the server's code sees the stream, and the report counts what it read and wrote.
TEST_F(HboneLoopback, AHandlerCanServeTheStreamItself) {
  handler_ = [this](ConnectRequest request) -> asio::awaitable<ConnectDecision> {
    requests_.push_back(request);
    auto decision = ConnectDecision::serveWith([](HboneStream& stream) -> asio::awaitable<RelayResult> {
      RelayResult result;
      std::string got = co_await readAll(stream);
      result.streamToSocket = got.size();
      std::string answer = "served:" + got;
      result.socketToStream = answer.size();
      auto written = co_await stream.write(std::move(answer));
      if (!written || !stream.closeWrite()) result.error = "could not answer";
      result.firstClose = FirstClose::kStream;
      co_return result;
    });
    decision.onFinished = [this](const StreamReport& report) { reports_.push_back(report); };
    co_return decision;
  };
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto stream = co_await pool().connect(target());
    CO_ASSERT_TRUE(stream.ok());
    EXPECT_EQ(stream.status(), 200);
    CO_ASSERT_TRUE((co_await stream->write("hello")).ok());
    CO_ASSERT_TRUE(stream->closeWrite().ok());
    EXPECT_EQ(co_await readAll(**stream), "served:hello");
    stream.value().reset();
    co_await waitFor(serverCounters_.streamsClosed);
  });
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].status, 200);
  EXPECT_EQ(reports_[0].bytesFromPeer, 5u);
  EXPECT_EQ(reports_[0].bytesToPeer, 12u);
  EXPECT_EQ(reports_[0].error, "");
}

}  // namespace
}  // namespace weft::hbone::testing
