// The gateway's HTTP/2 side against real clients: curl (--http2-prior-knowledge) and
// h2load, on loopback, with a responder that echoes what it was asked.
#include "proxy/h2_downstream.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <future>
#include <thread>

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char chunk[4096];
  size_t got = 0;
  while ((got = fread(chunk, 1, sizeof chunk, pipe)) > 0) out.append(chunk, got);
  pclose(pipe);
  return out;
}

// Answers every request with what it saw: "METHOD target host=H body=N" and a header.
asio::awaitable<H2Answer> echo(H2Request request) {
  H2Response response{http::status::ok, 11};
  response.set("x-echo-method", request.method_string());
  response.body() = fmt::format("{} {} host={} body={}", std::string(request.method_string()), std::string(request.target()),
                                std::string(request[http::field::host]), request.body().size());
  response.prepare_payload();
  H2Answer answer{std::move(response), {}};
  // Asked for trailers: they follow the body in a trailing HEADERS frame.
  if (auto wanted = request.find("x-want-trailer"); wanted != request.end()) answer.trailers.emplace_back("x-trailer", std::string(wanted->value()));
  co_return answer;
}

class H2Server {
 public:
  explicit H2Server(H2DownstreamOptions options = {}) : options_(options) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(io_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~H2Server() {
    asio::post(io_, [this] { acceptor_.close(); });
    io_.stop();
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  H2DownstreamCounters counters() {
    std::promise<H2DownstreamCounters> copy;
    asio::post(io_, [&] { copy.set_value(counters_); });
    return copy.get_future().get();
  }

 private:
  asio::awaitable<void> acceptLoop() {
    while (true) {
      auto [error, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (error) co_return;
      asio::co_spawn(io_, serveOne(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serveOne(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    co_await serveHttp2(stream, buffer, echo, options_, counters_);
  }

  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  H2DownstreamOptions options_;
  H2DownstreamCounters counters_;
  std::thread thread_;
};

bool haveTool(const char* path) { return std::filesystem::exists(path); }

TEST(Http2Preface, RecognisesThePrefaceAndItsStart) {
  EXPECT_TRUE(mayBeHttp2Preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  EXPECT_TRUE(mayBeHttp2Preface("PRI * HT"));
  EXPECT_TRUE(mayBeHttp2Preface(""));
  EXPECT_FALSE(mayBeHttp2Preface("GET / HTTP/1.1\r\n"));
  EXPECT_FALSE(mayBeHttp2Preface("PRIX"));
}

TEST(H2Downstream, CurlPriorKnowledgeGetAndPost) {
  if (!haveTool("/usr/bin/curl")) GTEST_SKIP() << "curl is not installed";
  H2Server server;
  std::string url = fmt::format("http://127.0.0.1:{}/get?x=1", server.port());
  std::string got = run(fmt::format("curl -s --max-time 5 --http2-prior-knowledge -H 'Host: example.com' -D - -w '\\nversion=%{{http_version}}' '{}'", url));
  EXPECT_NE(got.find("HTTP/2 200"), std::string::npos) << got;
  EXPECT_NE(got.find("x-echo-method: GET"), std::string::npos) << got;
  EXPECT_NE(got.find("GET /get?x=1 host=example.com body=0"), std::string::npos) << got;
  EXPECT_NE(got.find("version=2"), std::string::npos) << got;

  std::string posted = run(fmt::format("head -c 100000 /dev/zero | curl -s --max-time 5 --http2-prior-knowledge --data-binary @- "
                                       "http://127.0.0.1:{}/post",
                                       server.port()));
  EXPECT_EQ(posted, fmt::format("POST /post host=127.0.0.1:{} body=100000", server.port()));
  EXPECT_EQ(server.counters().streams, 2u);
}

TEST(H2Downstream, TrailersFollowTheBodyInTheirOwnHeadersFrame) {
  if (!haveTool("/usr/bin/nghttp")) GTEST_SKIP() << "nghttp is not installed";
  H2Server server;
  std::string got = run(fmt::format("nghttp -nv -H 'x-want-trailer: done' http://127.0.0.1:{}/t 2>&1", server.port()));
  // DATA without END_STREAM, then a HEADERS frame with END_STREAM carrying the trailer.
  auto trailerAt = got.find("x-trailer: done");
  ASSERT_NE(trailerAt, std::string::npos) << got;
  auto lastHeaders = got.find("recv HEADERS frame", trailerAt);  // nghttp prints a frame's fields before it
  ASSERT_NE(lastHeaders, std::string::npos) << got;
  EXPECT_NE(got.find("flags=0x05", lastHeaders), std::string::npos) << got;  // END_STREAM | END_HEADERS
  auto data = got.find("recv DATA frame");
  ASSERT_NE(data, std::string::npos) << got;
  EXPECT_LT(data, lastHeaders) << got;
  EXPECT_NE(got.substr(data, got.find('\n', data) - data).find("flags=0x00"), std::string::npos) << got;
}

TEST(H2Downstream, ManyConcurrentStreamsFromH2load) {
  if (!haveTool("/usr/bin/h2load")) GTEST_SKIP() << "h2load is not installed";
  H2Server server;
  std::string got = run(fmt::format("h2load -n 400 -c 4 -m 20 http://127.0.0.1:{}/ 2>&1", server.port()));
  EXPECT_NE(got.find("400 succeeded, 0 failed, 0 errored"), std::string::npos) << got;
  EXPECT_NE(got.find("status codes: 400 2xx"), std::string::npos) << got;
  EXPECT_EQ(server.counters().streams, 400u);
}

TEST(H2Downstream, BodiesOverTheConnectionBudgetAre503) {
  if (!haveTool("/usr/bin/curl")) GTEST_SKIP() << "curl is not installed";
  H2DownstreamOptions options;
  options.maxBufferedBodyBytes = 10000;
  H2Server server(options);
  std::string got = run(fmt::format("head -c 50000 /dev/zero | curl -s --max-time 5 --http2-prior-knowledge -o /dev/null -w '%{{http_code}}' "
                                    "--data-binary @- http://127.0.0.1:{}/post",
                                    server.port()));
  EXPECT_EQ(got, "503");
  EXPECT_EQ(server.counters().rejectedStreams, 1u);
  // The connection budget is free again for the next request.
  EXPECT_EQ(run(fmt::format("curl -s --max-time 5 --http2-prior-knowledge -o /dev/null -w '%{{http_code}}' http://127.0.0.1:{}/",
                            server.port())),
            "200");
}

TEST(H2Downstream, GarbageAfterThePrefaceEndsTheSession) {
  H2Server server;
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), server.port()});
  std::string bytes = std::string(kHttp2Preface) + std::string(64, '\xff');
  asio::write(socket, asio::buffer(bytes));
  // The server answers with its SETTINGS and a GOAWAY, then closes: read to the end.
  std::string answer;
  boost::system::error_code error;
  char chunk[4096];
  while (!error) {
    size_t got = socket.read_some(asio::buffer(chunk), error);
    answer.append(chunk, got);
  }
  EXPECT_EQ(error, asio::error::eof);
  ASSERT_GE(answer.size(), 9u);
  // A GOAWAY frame (type 7) is among what came back.
  bool sawGoaway = false;
  for (size_t at = 0; at + 9 <= answer.size();) {
    size_t length = (static_cast<uint8_t>(answer[at]) << 16) | (static_cast<uint8_t>(answer[at + 1]) << 8) | static_cast<uint8_t>(answer[at + 2]);
    if (answer[at + 3] == 7) sawGoaway = true;
    at += 9 + length;
  }
  EXPECT_TRUE(sawGoaway);
  EXPECT_EQ(server.counters().protocolErrors, 1u);
}

}  // namespace
}  // namespace weft::proxy
