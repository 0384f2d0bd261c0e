// The HTTP/2 upstream pool against real HTTP/2 servers on loopback: the gateway's own
// HTTP/2 server side (h2_downstream, nghttp2) with responders that echo, wait or add
// trailers, and raw sockets for peers that misbehave. gRPC's own HTTP/2 (grpc-core) is the
// other peer, in grpc_gateway_test.cc.
#include "proxy/h2_upstream.h"
#include "proxy/streaming_test_support.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <fmt/format.h>

#include <future>

#include "proxy/h2_downstream.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// What the test server saw, shared with its responder.
struct Seen {
  int inFlight = 0;
  int maxInFlight = 0;
  int requests = 0;
  std::string lastTe;
  std::string lastAuthority;
  std::atomic<bool> gate{false};  // holds the second piece of /gated
  int lastEnd = -1;               // how the last streamed answer's sending ended (RelayEnd)
};

asio::awaitable<H2Answer> respond(std::shared_ptr<Seen> seen, H2Request request, std::shared_ptr<StreamedBody> body) {
  ++seen->requests;
  ++seen->inFlight;
  seen->maxInFlight = std::max(seen->maxInFlight, seen->inFlight);
  seen->lastTe = std::string(request["te"]);
  seen->lastAuthority = std::string(request[http::field::host]);
  std::string target(request.target());
  if (target.starts_with("/wait/")) {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(std::atoi(target.c_str() + 6)));
    co_await timer.async_wait(kUseTuple);
  }
  --seen->inFlight;
  H2Answer answer;
  // /echo: the request's streamed body comes straight back, piece by piece, as it arrives.
  if (target == "/echo" && body != nullptr) {
    answer.response.result(http::status::ok);
    auto echo = std::make_shared<testing::EchoBody>(body);
    answer.body = echo.get();
    answer.finished = [echo](RelayEnd) {};
    co_return answer;
  }
  // Streamed answers: /pieces/N (N pieces of 64 KiB) and /gated (two, the second held until
  // the gate opens), with gRPC trailers after the body.
  if (target.starts_with("/pieces/") || target == "/gated") {
    answer.response.result(http::status::ok);
    answer.response.set(http::field::content_type, "application/octet-stream");
    size_t pieces = target == "/gated" ? 2 : std::stoul(target.substr(8));
    auto body = std::make_shared<testing::PiecesBody>(pieces, target == "/gated" ? 1 : testing::PiecesBody::kNever, testing::PiecesBody::kNever,
                                                      &seen->gate, hbone::Headers{{"grpc-status", "0"}});
    answer.body = body.get();
    answer.finished = [seen, body](RelayEnd end) { seen->lastEnd = static_cast<int>(end); };
    co_return answer;
  }
  answer.response.result(target == "/missing" ? http::status::not_found : http::status::ok);
  answer.response.set("x-echo", fmt::format("{} {} {}", std::string(request.method_string()), target, request.body().size()));
  answer.response.body() = "body of " + target;
  answer.response.prepare_payload();
  if (target == "/trailers") {
    answer.trailers = {{"grpc-status", "0"}, {"grpc-message", "fine"}};
  }
  co_return answer;
}

class Http2Server {
 public:
  Http2Server(asio::io_context& io, H2DownstreamOptions options = {}) : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), options_(options) {
    asio::co_spawn(io, acceptLoop(), asio::detached);
  }
  ~Http2Server() { acceptor_.close(); }
  std::string endpoint() const { return fmt::format("127.0.0.1:{}", acceptor_.local_endpoint().port()); }
  std::shared_ptr<Seen> seen = std::make_shared<Seen>();
  int connections = 0;

 private:
  asio::awaitable<void> acceptLoop() {
    while (true) {
      auto [error, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (error) co_return;
      ++connections;
      asio::co_spawn(acceptor_.get_executor(), serveOne(std::move(socket), seen, options_), asio::detached);
    }
  }
  asio::awaitable<void> serveOne(tcp::socket socket, std::shared_ptr<Seen> state, H2DownstreamOptions options) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    H2Responder responder = [state](H2Request request, std::shared_ptr<StreamedBody> body) {
      return respond(state, std::move(request), std::move(body));
    };
    H2DownstreamCounters counters;
    co_await serveHttp2(stream, buffer, std::move(responder), options, counters);
  }
  tcp::acceptor acceptor_;
  H2DownstreamOptions options_;
};

H2UpstreamPool::Request get(std::string target, std::string host = "backend.test") {
  H2UpstreamPool::Request request{http::verb::get, target, 11};
  request.set(http::field::host, host);
  return request;
}

class H2UpstreamTest : public ::testing::Test {
 protected:
  // Runs `count` exchanges of `request` at once and returns their results in order.
  std::vector<H2Exchange> exchangeAll(H2UpstreamPool& pool, std::string endpoint, H2UpstreamPool::Request request, size_t count,
                                      std::optional<Clock::time_point> deadline = std::nullopt, H2UpstreamPool::Limits limits = {}) {
    std::vector<H2Exchange> results(count);
    size_t done = 0;
    for (size_t i = 0; i < count; ++i) {
      asio::co_spawn(io_, one(pool, endpoint, request, deadline, limits), [&, i](std::exception_ptr failed, H2Exchange result) {
        if (failed) ADD_FAILURE() << "exchange threw";
        results[i] = std::move(result);
        ++done;
      });
    }
    while (done < count) {
      if (io_.run_one() == 0) io_.restart();  // ran out of work between two calls
    }
    return results;
  }

  H2Exchange exchangeOne(H2UpstreamPool& pool, std::string endpoint, H2UpstreamPool::Request request,
                         std::optional<Clock::time_point> deadline = std::nullopt) {
    return std::move(exchangeAll(pool, std::move(endpoint), std::move(request), 1, deadline)[0]);
  }

  // Every piece of `body` and how it ended, running io_ meanwhile.
  std::pair<std::string, bool> readAll(StreamedBody& body) {
    std::string all;
    bool failed = false, done = false;
    asio::co_spawn(io_, readInto(body, all, failed), [&](std::exception_ptr) { done = true; });
    while (!done) {
      if (io_.run_one() == 0) io_.restart();
    }
    return {all, !failed};
  }
  static asio::awaitable<void> readInto(StreamedBody& body, std::string& all, bool& failed) {
    while (true) {
      auto piece = co_await body.next();
      if (!piece) {
        failed = true;
        co_return;
      }
      if (piece->empty()) co_return;
      all += *piece;
    }
  }

  static asio::awaitable<H2Exchange> one(H2UpstreamPool& pool, std::string endpoint, H2UpstreamPool::Request request,
                                         std::optional<Clock::time_point> deadline, H2UpstreamPool::Limits limits) {
    H2Destination destination{std::move(endpoint), "", nullptr};
    co_return co_await pool.exchange(std::move(destination), request, deadline, limits);
  }

  void runFor(std::chrono::milliseconds period) {
    asio::steady_timer timer(io_, period);
    bool fired = false;
    timer.async_wait([&](auto) { fired = true; });
    while (!fired) {
      if (io_.run_one() == 0) io_.restart();
    }
  }

  asio::io_context io_;
};

TEST_F(H2UpstreamTest, GetAndPostWithBodiesHeadersAndTrailers) {
  Http2Server server(io_);
  H2UpstreamPool pool(io_, {});
  auto got = exchangeOne(pool, server.endpoint(), get("/hello"));
  ASSERT_EQ(got.status, H2Exchange::Status::kOk);
  EXPECT_EQ(got.response.result_int(), 200u);
  EXPECT_EQ(got.response["x-echo"], "GET /hello 0");
  EXPECT_EQ(got.response.body(), "body of /hello");
  EXPECT_TRUE(got.trailers.empty());
  EXPECT_EQ(server.seen->lastAuthority, "backend.test");

  auto post = get("/trailers");
  post.method(http::verb::post);
  post.set(http::field::content_type, "application/grpc");
  post.body() = std::string(100000, 'x');  // beyond one DATA frame and the initial window
  post.prepare_payload();
  got = exchangeOne(pool, server.endpoint(), post);
  ASSERT_EQ(got.status, H2Exchange::Status::kOk);
  EXPECT_EQ(got.response["x-echo"], "POST /trailers 100000");
  EXPECT_EQ(server.seen->lastTe, "trailers") << "gRPC requires te: trailers";
  EXPECT_EQ(got.trailers, (hbone::Headers{{"grpc-status", "0"}, {"grpc-message", "fine"}}));

  got = exchangeOne(pool, server.endpoint(), get("/missing"));
  ASSERT_EQ(got.status, H2Exchange::Status::kOk);
  EXPECT_EQ(got.response.result_int(), 404u);
  EXPECT_EQ(server.connections, 1) << "one connection carried all three";
  EXPECT_EQ(pool.counters().streams, 3u);
}

TEST_F(H2UpstreamTest, ConcurrentRequestsShareOneConnection) {
  Http2Server server(io_);
  H2UpstreamPool pool(io_, {});
  auto results = exchangeAll(pool, server.endpoint(), get("/wait/50"), 20);
  for (const auto& r : results) EXPECT_EQ(r.status, H2Exchange::Status::kOk);
  EXPECT_EQ(server.connections, 1);
  EXPECT_EQ(server.seen->maxInFlight, 20) << "multiplexed, not one after another";
}

TEST_F(H2UpstreamTest, APeersStreamLimitOpensMoreConnections) {
  H2DownstreamOptions options;
  options.maxConcurrentStreams = 2;
  Http2Server server(io_, options);
  H2UpstreamPool pool(io_, {});
  // The first exchange learns the peer's SETTINGS (2 streams).
  ASSERT_EQ(exchangeOne(pool, server.endpoint(), get("/")).status, H2Exchange::Status::kOk);
  auto results = exchangeAll(pool, server.endpoint(), get("/wait/100"), 6);
  for (const auto& r : results) EXPECT_EQ(r.status, H2Exchange::Status::kOk);
  EXPECT_EQ(server.connections, 3);
  EXPECT_EQ(pool.connectionCount(server.endpoint()), 3u);
  EXPECT_EQ(server.seen->maxInFlight, 6);
}

TEST_F(H2UpstreamTest, ConnectFailureAndDeadline) {
  H2UpstreamPool pool(io_, {});
  tcp::acceptor closed(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::string nobody = fmt::format("127.0.0.1:{}", closed.local_endpoint().port());
  closed.close();
  EXPECT_EQ(exchangeOne(pool, nobody, get("/")).status, H2Exchange::Status::kConnectFailure);
  EXPECT_EQ(exchangeOne(pool, "not-an-address", get("/")).status, H2Exchange::Status::kConnectFailure);
  EXPECT_EQ(pool.counters().connectFailures, 1u);

  Http2Server server(io_);
  auto start = Clock::now();
  auto late = exchangeOne(pool, server.endpoint(), get("/wait/2000"), Clock::now() + std::chrono::milliseconds(100));
  EXPECT_EQ(late.status, H2Exchange::Status::kTimeout);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1500));
  // The timed-out stream was reset, the connection is fine for the next request.
  EXPECT_EQ(exchangeOne(pool, server.endpoint(), get("/")).status, H2Exchange::Status::kOk);
  EXPECT_EQ(server.connections, 1);
}

// A peer that takes the connection, reads the request and closes: the stream is reset.
asio::awaitable<void> acceptReadClose(std::shared_ptr<tcp::acceptor> acceptor) {
  while (true) {
    auto [error, socket] = co_await acceptor->async_accept(kUseTuple);
    if (error) co_return;
    char chunk[4096];
    auto [readError, got] = co_await socket.async_read_some(asio::buffer(chunk), kUseTuple);
    (void)readError;
    (void)got;
    socket.close();
  }
}

TEST_F(H2UpstreamTest, APeerThatClosesResetsItsStreams) {
  auto acceptor = std::make_shared<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::co_spawn(io_, acceptReadClose(acceptor), asio::detached);
  H2UpstreamPool pool(io_, {});
  std::string endpoint = fmt::format("127.0.0.1:{}", acceptor->local_endpoint().port());
  auto results = exchangeAll(pool, endpoint, get("/"), 3);
  for (const auto& r : results) EXPECT_EQ(r.status, H2Exchange::Status::kReset);
  EXPECT_EQ(pool.connectionCount(endpoint), 0u) << "a dead connection is not used again";
  acceptor->close();
}

TEST_F(H2UpstreamTest, IdleConnectionsAreClosed) {
  Http2Server server(io_);
  H2UpstreamOptions options;
  options.idleTimeout = std::chrono::milliseconds(100);
  H2UpstreamPool pool(io_, options);
  ASSERT_EQ(exchangeOne(pool, server.endpoint(), get("/")).status, H2Exchange::Status::kOk);
  EXPECT_EQ(pool.connectionCount(server.endpoint()), 1u);
  runFor(std::chrono::milliseconds(300));
  EXPECT_EQ(pool.connectionCount(server.endpoint()), 0u);
  EXPECT_EQ(pool.counters().idleClosed, 1u);
  ASSERT_EQ(exchangeOne(pool, server.endpoint(), get("/")).status, H2Exchange::Status::kOk);
  EXPECT_EQ(server.connections, 2);
}

TEST_F(H2UpstreamTest, MaxRequestsPerConnectionDrainsTheConnection) {
  Http2Server server(io_);
  H2UpstreamPool pool(io_, {});
  H2UpstreamPool::Limits limits{std::chrono::milliseconds(0), 2};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(exchangeAll(pool, server.endpoint(), get("/"), 1, std::nullopt, limits)[0].status, H2Exchange::Status::kOk);
  EXPECT_EQ(server.connections, 3) << "2 + 2 + 1 requests";
}

// connectionPool.tcp.maxConnectionDuration: a connection that old takes no new stream; it
// closes (here at once, having none) and the next request opens another.
TEST_F(H2UpstreamTest, AConnectionPastItsMaxDurationTakesNoNewStream) {
  Http2Server server(io_);
  H2UpstreamPool pool(io_, {});
  H2UpstreamPool::Limits limits{std::chrono::milliseconds(0), 0};
  limits.maxConnectionDuration = std::chrono::milliseconds(200);
  EXPECT_EQ(exchangeAll(pool, server.endpoint(), get("/"), 1, std::nullopt, limits)[0].status, H2Exchange::Status::kOk);
  EXPECT_EQ(exchangeAll(pool, server.endpoint(), get("/"), 1, std::nullopt, limits)[0].status, H2Exchange::Status::kOk);
  EXPECT_EQ(server.connections, 1) << "young enough: reused";
  runFor(std::chrono::milliseconds(300));
  EXPECT_EQ(exchangeAll(pool, server.endpoint(), get("/"), 1, std::nullopt, limits)[0].status, H2Exchange::Status::kOk);
  EXPECT_EQ(server.connections, 2);
  EXPECT_EQ(pool.connectionCount(server.endpoint()), 1u) << "the old one closed";
}

TEST_F(H2UpstreamTest, AMeshEndpointWithoutTunnelsIsNeverSentPlaintext) {
  // The endpoint speaks h2c on plain TCP, but it is in the mesh (it has an HBONE identity)
  // and the proxy holds no certificate yet: the exchange fails without a byte sent.
  Http2Server server(io_);
  H2UpstreamPool pool(io_, {});
  H2Destination destination{server.endpoint(), "spiffe://cluster.local/ns/shop/sa/hb", nullptr};
  auto request = get("/");  // borrowed by the exchange until it ends
  H2Exchange result;
  bool done = false;
  asio::co_spawn(io_, pool.exchange(destination, request, std::nullopt, {}), [&](std::exception_ptr failed, H2Exchange got) {
    if (failed) ADD_FAILURE() << "exchange threw";
    result = std::move(got);
    done = true;
  });
  while (!done) {
    if (io_.run_one() == 0) io_.restart();
  }
  EXPECT_EQ(result.status, H2Exchange::Status::kConnectFailure);
  EXPECT_EQ(pool.connectionCount(destination.poolKey()), 0u);
  EXPECT_EQ(server.connections, 0);
  // The same endpoint as plain TCP is another pool key, and works.
  H2Destination plain{server.endpoint(), "", nullptr};
  EXPECT_NE(destination.poolKey(), plain.poolKey());
  EXPECT_EQ(plain.poolKey(), server.endpoint());
  EXPECT_EQ(exchangeOne(pool, server.endpoint(), get("/")).status, H2Exchange::Status::kOk);
  EXPECT_EQ(pool.connectionCount(destination.poolKey()), 0u);
  EXPECT_EQ(pool.connectionCount(server.endpoint()), 1u);
}

TEST(Http2RequestHeaders, PseudoHeadersLowerCaseAndNoConnectionFields) {
  H2UpstreamPool::Request request{http::verb::post, "/pkg.Svc/Call?x=1", 11};
  request.set(http::field::host, "api:9000");
  request.set("X-Mixed-Case", "v");
  request.set(http::field::connection, "keep-alive");
  request.set(http::field::te, "gzip");
  request.set(http::field::content_type, "application/grpc+proto");
  hbone::H2Codec::RequestHead head;
  auto headers = http2RequestHeaders(request, head);
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.scheme, "http");
  EXPECT_EQ(head.authority, "api:9000");
  EXPECT_EQ(head.path, "/pkg.Svc/Call?x=1");
  EXPECT_EQ(hbone::findHeader(headers, "x-mixed-case"), "v");
  EXPECT_FALSE(hbone::findHeader(headers, "connection"));
  EXPECT_FALSE(hbone::findHeader(headers, "host"));
  EXPECT_EQ(hbone::findHeader(headers, "te"), "trailers");
}

TEST(UsesHttp2Upstream, TheClustersProtocolOrTheClients) {
  weft::v1::ConnectionPool pool;
  EXPECT_FALSE(usesHttp2Upstream(pool, kHttp2Version));
  pool.set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
  EXPECT_TRUE(usesHttp2Upstream(pool, 11));
  pool.set_upstream_protocol(weft::v1::ConnectionPool::CLIENT);
  EXPECT_TRUE(usesHttp2Upstream(pool, kHttp2Version));
  EXPECT_FALSE(usesHttp2Upstream(pool, 11));
}

}  // namespace
}  // namespace weft::proxy

namespace weft::proxy {
namespace {

H2UpstreamPool::Limits streaming() {
  H2UpstreamPool::Limits limits;
  limits.responseMayStream = true;
  return limits;
}

TEST_F(H2UpstreamTest, AStreamedAnswerComesBackWithItsHeadAndItsBodyFollows) {
  Http2Server server(io_);
  H2UpstreamPool pool(io_, {});
  // The server makes the second piece only after the gate opens, which happens only once the
  // exchange is back: held whole, the exchange could not return.
  auto got = std::move(exchangeAll(pool, server.endpoint(), get("/gated"), 1, std::nullopt, streaming())[0]);
  ASSERT_EQ(got.status, H2Exchange::Status::kOk);
  ASSERT_NE(got.body, nullptr);
  EXPECT_EQ(got.response.result_int(), 200u);
  EXPECT_TRUE(got.response.body().empty()) << "the head alone";
  server.seen->gate = true;
  auto [all, ok] = readAll(*got.body);
  EXPECT_TRUE(ok);
  EXPECT_EQ(all, std::string(testing::PiecesBody::kPiece, 'a') + std::string(testing::PiecesBody::kPiece, 'b'));
  EXPECT_TRUE(got.body->ended());
  EXPECT_EQ(got.body->trailers, (hbone::Headers{{"grpc-status", "0"}})) << "the trailers come with the body";
  got.body.reset();
  // 20 MiB, over what a held body may be, on the same connection.
  auto big = std::move(exchangeAll(pool, server.endpoint(), get("/pieces/320"), 1, std::nullopt, streaming())[0]);
  ASSERT_NE(big.body, nullptr);
  auto [bigBody, bigOk] = readAll(*big.body);
  EXPECT_TRUE(bigOk);
  EXPECT_EQ(bigBody.size(), 320 * testing::PiecesBody::kPiece);
  EXPECT_EQ(server.connections, 1);
  // A small answer with a length is held as before, and so is everything without streaming.
  auto small = exchangeAll(pool, server.endpoint(), get("/small"), 1, std::nullopt, streaming());
  EXPECT_EQ(small[0].body, nullptr);
  EXPECT_EQ(small[0].response.body(), "body of /small");
  auto held = exchangeOne(pool, server.endpoint(), get("/pieces/3"));
  EXPECT_EQ(held.body, nullptr);
  EXPECT_EQ(held.response.body().size(), 3 * testing::PiecesBody::kPiece);
}

TEST_F(H2UpstreamTest, AStreamedBodyDroppedMidwayResetsItsStreamAndFreesTheConnection) {
  Http2Server server(io_);
  H2UpstreamPool pool(io_, {});
  auto got = std::move(exchangeAll(pool, server.endpoint(), get("/pieces/1000"), 1, std::nullopt, streaming())[0]);
  ASSERT_NE(got.body, nullptr);
  got.body.reset();  // 64 MiB not wanted after all
  runFor(std::chrono::milliseconds(200));
  EXPECT_EQ(server.seen->lastEnd, static_cast<int>(RelayEnd::kSinkFailed)) << "the server saw its stream cancelled";
  // The connection's window was given back: more requests pass on it.
  for (int i = 0; i < 3; ++i) {
    auto again = std::move(exchangeAll(pool, server.endpoint(), get("/pieces/70"), 1, std::nullopt, streaming())[0]);
    ASSERT_NE(again.body, nullptr);
    auto [all, ok] = readAll(*again.body);
    EXPECT_TRUE(ok);
    EXPECT_EQ(all.size(), 70 * testing::PiecesBody::kPiece);
  }
  EXPECT_EQ(server.connections, 1);
}

// Bidirectional: the request's body streams up while the answer streams back. The server
// echoes each piece as it comes, and the second piece of the request is sent only after the
// first piece of the answer arrived: neither side may wait for the other's end.
TEST_F(H2UpstreamTest, ARequestBodyStreamsUpWhileTheAnswerStreamsBack) {
  H2DownstreamOptions options;
  options.streamRequestBodies = true;
  Http2Server server(io_, options);
  H2UpstreamPool pool(io_, {});
  std::atomic<bool> gate{false};
  auto limits = streaming();
  limits.requestBody = std::make_shared<testing::PiecesBody>(3, 1, testing::PiecesBody::kNever, &gate);
  auto request = get("/echo");
  request.method(http::verb::post);
  auto got = std::move(exchangeAll(pool, server.endpoint(), request, 1, std::nullopt, limits)[0]);
  ASSERT_EQ(got.status, H2Exchange::Status::kOk);
  ASSERT_NE(got.body, nullptr);
  std::string first;
  while (first.size() < testing::PiecesBody::kPiece) {
    bool done = false;
    Result<std::string_view> piece = makeError("not read");
    std::string copy;
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
      auto next = co_await got.body->next();
      if (next) copy = std::string(*next);
      piece = next ? Result<std::string_view>(std::string_view(copy)) : Result<std::string_view>(next.error());
      done = true;
    }, asio::detached);
    while (!done) {
      if (io_.run_one() == 0) io_.restart();
    }
    ASSERT_TRUE(piece) << piece.error().message;
    ASSERT_FALSE(piece->empty()) << "the answer ended early";
    first += copy;
  }
  EXPECT_EQ(first, std::string(testing::PiecesBody::kPiece, 'a')) << "the first piece came back while the request was open";
  gate = true;
  auto [rest, ok] = readAll(*got.body);
  EXPECT_TRUE(ok);
  EXPECT_EQ(rest, std::string(testing::PiecesBody::kPiece, 'b') + std::string(testing::PiecesBody::kPiece, 'c'));
}

// An HTTP/2 server that answers every request at once ("ok", END_STREAM on the DATA) and
// never resets a stream itself, as a peer may; it records how each stream closed.
struct PlainAnsweringServer {
  explicit PlainAnsweringServer(asio::io_context& io) : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  asio::awaitable<void> serve() {
    auto [acceptError, socket] = co_await acceptor.async_accept(kUseTuple);
    if (acceptError) co_return;
    auto codec = hbone::H2Codec::make(hbone::H2Role::kServer, hbone::H2Settings::server()).value();
    char chunk[65536];
    while (true) {
      std::string out = codec->takeOutput();
      if (!out.empty()) {
        auto [writeError, written] = co_await asio::async_write(socket, asio::buffer(out), kUseTuple);
        if (writeError) co_return;
      }
      auto [readError, got] = co_await socket.async_read_some(asio::buffer(chunk), kUseTuple);
      if (readError) co_return;
      (void)codec->receive({reinterpret_cast<const uint8_t*>(chunk), got});
      for (auto& event : codec->takeEvents()) {
        if (auto* headers = std::get_if<hbone::StreamHeadersEvent>(&event)) {
          (void)codec->submitResponse(headers->streamId, 200, {{"content-length", "2"}}, false);
          (void)codec->submitData(headers->streamId, {reinterpret_cast<const uint8_t*>("ok"), 2});
          (void)codec->submitEnd(headers->streamId);
        } else if (auto* data = std::get_if<hbone::StreamDataEvent>(&event)) {
          codec->consume(data->streamId, data->data.size());
        } else if (auto* closed = std::get_if<hbone::StreamClosedEvent>(&event)) {
          closedWith.push_back(closed->errorCode);
        }
      }
    }
  }
  std::string endpoint() const { return fmt::format("127.0.0.1:{}", acceptor.local_endpoint().port()); }
  tcp::acceptor acceptor;
  std::vector<uint32_t> closedWith;
};

// Answered before the request body ended: the pool gives up its half of the stream at once
// (RST_STREAM CANCEL), or a peer that does not reset streams itself would keep it open, one
// of its concurrent streams lost for good.
TEST_F(H2UpstreamTest, AnAnswerBeforeTheRequestBodyEndedResetsTheStream) {
  PlainAnsweringServer server(io_);
  H2UpstreamPool pool(io_, {});
  std::atomic<bool> never{false};
  H2UpstreamPool::Limits limits;
  limits.requestBody = std::make_shared<testing::PiecesBody>(3, 0, testing::PiecesBody::kNever, &never);  // waits for a gate that stays shut
  auto request = get("/early");
  request.method(http::verb::post);
  auto got = std::move(exchangeAll(pool, server.endpoint(), request, 1, std::nullopt, limits)[0]);
  ASSERT_EQ(got.status, H2Exchange::Status::kOk);
  EXPECT_EQ(got.response.body(), "ok");
  EXPECT_TRUE(got.requestBodyClaimed) << "the gateway must not send this request again";
  runFor(std::chrono::milliseconds(300));
  ASSERT_EQ(server.closedWith.size(), 1u) << "the stream was left open";
  EXPECT_EQ(server.closedWith[0], 0x8u);  // CANCEL
}

TEST_F(H2UpstreamTest, AStreamedBodyFailsWhenTheConnectionGoes) {
  Http2Server server(io_);
  H2UpstreamPool pool(io_, {});
  auto got = std::move(exchangeAll(pool, server.endpoint(), get("/gated"), 1, std::nullopt, streaming())[0]);
  ASSERT_NE(got.body, nullptr);
  pool.clear();
  auto [all, ok] = readAll(*got.body);
  EXPECT_FALSE(ok) << "a body cut short must not look whole";
  server.seen->gate = true;
}

}  // namespace
}  // namespace weft::proxy
