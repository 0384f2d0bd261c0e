// Response bodies streamed through the gateway (streamed_body.h), against a scripted
// HTTP/1.1 backend on loopback that writes exactly the bytes each test asks for, and
// clients that read the gateway's answer byte for byte.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/file_io.h"
#include "base/subprocess.h"
#include "proxy/gateway_server.h"
#include "proxy/grpc_test_support.h"
#include "proxy/streaming_test_support.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr const char* kCluster = "outbound|80||backend.example.com";

void writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
}

// What a scripted backend has of one request: its head, and the bytes read after it.
struct Received {
  int fd;
  std::string head;
  std::string& rest;  // bytes after the head read so far; a script that reads the body takes them
  // Reads until `rest` holds `needle`; false at EOF.
  bool readUntil(std::string_view needle) {
    char chunk[65536];
    while (rest.find(needle) == std::string::npos) {
      ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) return false;
      rest.append(chunk, static_cast<size_t>(got));
    }
    return true;
  }
  // Reads until `rest` holds `bytes` bytes; false at EOF.
  bool readAtLeast(size_t bytes) {
    char chunk[65536];
    while (rest.size() < bytes) {
      ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) return false;
      rest.append(chunk, static_cast<size_t>(got));
    }
    return true;
  }
};

// Accepts connections on 127.0.0.1 and, for every request head read on one, hands it to
// `respond(requestNumber)` (counted across connections from 0), which writes the answer
// (and reads the body, if it wants it); returning false closes the connection.
class ScriptedBackend {
 public:
  using Respond = std::function<bool(Received& request, int requestNumber)>;
  explicit ScriptedBackend(Respond respond) : respond_(std::move(respond)) {
    listener_ = testing::loopbackListener(port_);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~ScriptedBackend() {
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : connections_) t.join();
    for (int fd : open_) ::close(fd);
    ::close(listener_);
  }
  uint16_t port() const { return port_; }
  int connections() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }

 private:
  void acceptLoop() {
    while (true) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      ++accepted_;
      open_.push_back(fd);
      connections_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    std::string pending;
    char chunk[4096];
    while (true) {
      auto end = pending.find("\r\n\r\n");
      if (end == std::string::npos) {
        ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
        if (got <= 0) break;
        pending.append(chunk, static_cast<size_t>(got));
        continue;
      }
      std::string headText = pending.substr(0, end + 4);
      pending.erase(0, end + 4);
      int number = requests_++;
      Received received{fd, std::move(headText), pending};
      if (!respond_(received, number)) break;
    }
    ::shutdown(fd, SHUT_RDWR);
  }

  Respond respond_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> connections_;
  std::vector<int> open_;
  int accepted_ = 0;
  std::atomic<int> requests_{0};
};

class StreamedBodyTest : public ::testing::Test {
 protected:
  void SetUp() override { gatewayPort_ = testing::freePort(); }
  void TearDown() override {
    if (thread_.joinable()) {
      std::promise<void> stopped;
      asio::post(io_, [&] {
        server_.stop();
        stopped.set_value();
      });
      stopped.get_future().get();
      io_.stop();
      thread_.join();
    }
  }

  // Every host routed to the backend; `retries` attempts more on 5xx.
  void start(uint16_t backendPort, uint32_t retries = 0, uint32_t idleTimeoutMs = 0, bool http2 = false, uint32_t maxConnectionDurationMs = 0) {
    xds::HeldResources held;
    auto added = testing::addCatchAllRoute(held, gatewayPort_, kCluster, "backend.example.com", fmt::format("127.0.0.1:{}", backendPort));
    added.cluster->mutable_connection_pool()->set_idle_timeout_ms(idleTimeoutMs);
    added.cluster->mutable_connection_pool()->set_max_connection_duration_ms(maxConnectionDurationMs);
    if (http2) added.cluster->mutable_connection_pool()->set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
    if (retries > 0) {
      added.route->mutable_route()->mutable_retries()->set_attempts(retries);
      added.route->mutable_route()->mutable_retries()->set_retry_on("5xx");
    }
    auto config = ProxyConfig::build(held, {{"istio", "ingressgateway"}});
    ASSERT_TRUE(config) << config.error().message;
    server_.setConfig(*config);
    ASSERT_TRUE(server_.applyListeners(**config));
    thread_ = std::thread([this] { io_.run(); });
  }

  std::string metrics() {
    std::promise<std::string> text;
    asio::post(io_, [&] { text.set_value(metrics_.prometheusText()); });
    return text.get_future().get();
  }

  uint16_t gatewayPort_ = 0;
  asio::io_context io_;
  RequestMetrics metrics_{SourceWorkload{"gw", "istio-system", "gw"}};
  GatewayServer server_{io_, metrics_, ServerOptions{}};
  std::thread thread_;
};

// A client connection to the gateway, reading with Beast and no body limit.
struct Client {
  explicit Client(uint16_t port) : socket(io) {
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tenSeconds{10, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tenSeconds, sizeof tenSeconds);
  }
  void send(const std::string& target, unsigned version = 11) {
    http::request<http::empty_body> request{http::verb::get, target, version};
    request.set(http::field::host, "backend.example.com");
    http::write(socket, request);
  }
  http::response<http::string_body> receive(beast::error_code& error) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    http::read(socket, buffer, parser, error);
    return parser.release();
  }
  asio::io_context io;
  tcp::socket socket;
  beast::flat_buffer buffer;
};

std::string pattern(size_t bytes) {
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return out;
}

TEST_F(StreamedBodyTest, ABodyOverTheBufferLimitPassesWholeWithItsLength) {
  // 20 MiB: more than a buffered body may hold (kMaxBodyBytes), which used to be a 503.
  const std::string body = pattern(20 * 1024 * 1024);
  ScriptedBackend backend([&](Received& r, int) {
    int fd = r.fd;
    writeAll(fd, fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n", body.size()));
    writeAll(fd, body);
    return true;
  });
  start(backend.port());
  Client client(gatewayPort_);
  client.send("/big");
  beast::error_code error;
  auto answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.result_int(), 200u);
  EXPECT_EQ(answer[http::field::content_length], std::to_string(body.size())) << "the upstream's length, not chunked";
  EXPECT_FALSE(answer.chunked());
  EXPECT_EQ(answer.body().size(), body.size());
  EXPECT_TRUE(answer.body() == body);
  EXPECT_EQ(answer[http::field::server], "istio-envoy");
  // The connection carried the body to its end, so it goes back to the pool.
  client.send("/again");
  auto again = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(again.body().size(), body.size());
  EXPECT_EQ(backend.connections(), 1);
  EXPECT_NE(metrics().find("istio_response_bytes_sum"), std::string::npos);
}

TEST_F(StreamedBodyTest, AnUnsizedBodyReachesTheClientChunkedAsItArrives) {
  std::promise<void> clientSawFirst;
  auto firstSeen = clientSawFirst.get_future();
  ScriptedBackend backend([&](Received& r, int number) {
    int fd = r.fd;
    writeAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n");
    // The rest only once the client holds the first piece: a gateway that held the whole
    // body would never pass this point, and the client's read would time out.
    if (number == 0) firstSeen.wait_for(std::chrono::seconds(10));
    writeAll(fd, "6\r\nsecond\r\n0\r\n\r\n");
    return true;
  });
  start(backend.port());
  Client client(gatewayPort_);
  client.send("/events");
  http::response_parser<http::buffer_body> parser;
  char into[64];
  parser.get().body().data = into;
  parser.get().body().size = sizeof into;
  beast::error_code error;
  http::read_header(client.socket, client.buffer, parser, error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_TRUE(parser.chunked()) << "unknown length to an HTTP/1.1 client: chunked";
  std::string received;
  // Body bytes as the gateway sends them, until `enough` says stop.
  auto readBodyUntil = [&](auto enough) {
    while (!enough() && !error) {
      parser.get().body().data = into;
      parser.get().body().size = sizeof into;
      http::read_some(client.socket, client.buffer, parser, error);
      if (error == http::error::need_buffer) error = {};
      received.append(into, sizeof into - parser.get().body().size);
    }
  };
  readBodyUntil([&] { return received.size() >= 5; });
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(received, "first");
  clientSawFirst.set_value();
  readBodyUntil([&] { return parser.is_done(); });
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(received, "firstsecond");
  // Keep-alive on both sides: a second request, on the same upstream connection.
  client.send("/events");
  auto second = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(second.body(), "firstsecond");
  EXPECT_EQ(backend.connections(), 1);
}

TEST_F(StreamedBodyTest, AnHttp10ClientGetsAnUnsizedBodyEndedByTheClose) {
  ScriptedBackend backend([](Received& r, int) {
    int fd = r.fd;
    writeAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nold\r\n7\r\n-client\r\n0\r\n\r\n");
    return true;
  });
  start(backend.port());
  Client client(gatewayPort_);
  client.send("/", 10);
  std::string raw;
  char chunk[4096];
  while (true) {
    ssize_t got = ::recv(client.socket.native_handle(), chunk, sizeof chunk, 0);
    if (got <= 0) break;
    raw.append(chunk, static_cast<size_t>(got));
  }
  EXPECT_TRUE(raw.starts_with("HTTP/1.0 200 OK\r\n")) << raw;
  EXPECT_EQ(raw.find("chunked"), std::string::npos) << "HTTP/1.0 has no chunked coding: " << raw;
  EXPECT_TRUE(raw.ends_with("\r\n\r\nold-client")) << raw;
}

TEST_F(StreamedBodyTest, AnUpstreamThatDiesMidBodyCutsTheClientOff) {
  ScriptedBackend backend([](Received& r, int) {
    int fd = r.fd;
    writeAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n");
    writeAll(fd, pattern(100000));
    return false;  // and the connection closes, 200,000 bytes short
  });
  start(backend.port());
  Client client(gatewayPort_);
  client.send("/");
  beast::error_code error;
  auto answer = client.receive(error);
  EXPECT_EQ(error, http::error::partial_message) << "a short body, then the close: " << error.message() << " body " << answer.body().size() << " " << answer.base();
  EXPECT_EQ(answer.result_int(), 200u);
  std::string text = metrics();
  EXPECT_NE(text.find("response_flags=\"UC\""), std::string::npos) << text.substr(0, 2000);
}

// DestinationRule connectionPool.http.idleTimeout: a connection idle longer is not reused,
// for held and streamed bodies alike (both give the connection back to the pool).
TEST_F(StreamedBodyTest, AnUpstreamConnectionIdleLongerThanTheClustersTimeoutIsNotReused) {
  ScriptedBackend backend([](Received& r, int) {
    writeAll(r.fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    return true;
  });
  start(backend.port(), 0, 200);
  Client client(gatewayPort_);
  beast::error_code error;
  client.send("/1");
  ASSERT_EQ(client.receive(error).body(), "ok");
  client.send("/2");
  ASSERT_EQ(client.receive(error).body(), "ok");
  EXPECT_EQ(backend.connections(), 1) << "within the idle timeout the connection is reused";
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  client.send("/3");
  ASSERT_EQ(client.receive(error).body(), "ok");
  EXPECT_EQ(backend.connections(), 2) << "past it, a new one";
}

// connectionPool.tcp.maxConnectionDuration: a connection never idle for long is still
// replaced once it is that old.
TEST_F(StreamedBodyTest, AnUpstreamConnectionPastItsMaxDurationIsReplaced) {
  ScriptedBackend backend([](Received& r, int) {
    writeAll(r.fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    return true;
  });
  start(backend.port(), 0, 0, false, 250);
  Client client(gatewayPort_);
  beast::error_code error;
  for (int i = 0; i < 8; ++i) {  // about 800 ms, never idle for more than 100
    client.send("/" + std::to_string(i));
    ASSERT_EQ(client.receive(error).body(), "ok");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(backend.connections(), 3) << "a connection lasts no longer than 250 ms";
}

// HTTP/2 clients (curl, h2c with prior knowledge) get the same streamed bodies as DATA.
TEST_F(StreamedBodyTest, AnHttp2ClientGetsALargeUpstreamBodyAsItFlows) {
  if (findInPath("curl").empty()) GTEST_SKIP() << "curl is not installed";
  const std::string body = pattern(20 * 1024 * 1024);
  ScriptedBackend backend([&](Received& r, int) {
    writeAll(r.fd, fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.size()));
    writeAll(r.fd, body);
    return true;
  });
  start(backend.port());
  std::string file = fmt::format("/tmp/weft-h2-big-{}", getpid());
  auto got = runCommand({"curl", "-s", "--max-time", "20", "--http2-prior-knowledge", "-H", "Host: backend.example.com", "-o", file, "-w",
                         "%{http_version} %{http_code}", fmt::format("http://127.0.0.1:{}/big", gatewayPort_)});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->output, "2 200");
  auto read = readFile(file);
  std::string received = read ? *read : std::string();
  std::filesystem::remove(file);
  EXPECT_EQ(received.size(), body.size());
  EXPECT_TRUE(received == body);
  std::string text = metrics();
  EXPECT_NE(text.find("istio_response_bytes_sum{"), std::string::npos);
  EXPECT_NE(text.find(fmt::format("}} {}\n", body.size())), std::string::npos) << "the body's bytes are recorded once sent";
}

TEST_F(StreamedBodyTest, AnUpstreamThatDiesMidBodyResetsTheHttp2Stream) {
  if (findInPath("curl").empty()) GTEST_SKIP() << "curl is not installed";
  ScriptedBackend backend([](Received& r, int) {
    writeAll(r.fd, "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n");
    writeAll(r.fd, pattern(100000));
    return false;  // and the connection closes, 200,000 bytes short
  });
  start(backend.port());
  auto got = runCommand({"curl", "-s", "--max-time", "10", "--http2-prior-knowledge", "-H", "Host: backend.example.com", "-o", "/dev/null",
                         fmt::format("http://127.0.0.1:{}/", gatewayPort_)});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->exitCode, 92) << "curl: the stream was reset, not ended: " << got->output;
  std::string text = metrics();
  EXPECT_NE(text.find("response_flags=\"UC\""), std::string::npos) << text.substr(0, 2000);
}

// An HTTP/2 upstream's body (h2c, the gateway's own HTTP/2 server side answering 20 MiB in
// pieces, then trailers) streams too: chunked to an HTTP/1.1 client, as DATA with the
// trailers to an HTTP/2 one.
asio::awaitable<H2Answer> twentyMebibytes(H2Request, std::shared_ptr<StreamedBody>) {
  H2Answer answer;
  answer.response.result(http::status::ok);
  auto body = std::make_shared<testing::PiecesBody>(320, testing::PiecesBody::kNever, testing::PiecesBody::kNever, nullptr,
                                                    hbone::Headers{{"x-trailer", "after"}});
  answer.body = body.get();
  answer.finished = [body](RelayEnd) {};
  co_return answer;
}

TEST_F(StreamedBodyTest, AnHttp2UpstreamsBodyStreamsToHttp1AndHttp2Clients) {
  testing::H2TestServer backend({}, &twentyMebibytes);
  start(backend.port(), 0, 0, true);
  Client client(gatewayPort_);
  client.send("/big");
  beast::error_code error;
  auto answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.result_int(), 200u);
  EXPECT_TRUE(answer.chunked()) << "no length from the upstream: chunked";
  EXPECT_EQ(answer.body().size(), 320 * testing::PiecesBody::kPiece);
  EXPECT_EQ(answer.body().find_first_not_of("abcdefghijklmnopqrstuvwxyz"), std::string::npos);

  if (findInPath("nghttp").empty()) GTEST_SKIP() << "nghttp is not installed";
  auto got = runCommand({"nghttp", "-nv", "-H", "host: backend.example.com", fmt::format("http://127.0.0.1:{}/big", gatewayPort_)});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->exitCode, 0) << got->output.substr(0, 2000);
  EXPECT_NE(got->output.find("x-trailer: after"), std::string::npos) << "the upstream's trailers reach the HTTP/2 client";
  size_t data = 0;
  for (size_t at = got->output.find("recv DATA frame <length="); at != std::string::npos; at = got->output.find("recv DATA frame <length=", at + 1)) {
    data += std::stoul(got->output.substr(at + 24));
  }
  EXPECT_EQ(data, 320 * testing::PiecesBody::kPiece);
}

TEST_F(StreamedBodyTest, ARetriedAnswerIsDecidedOnItsHeadBeforeAnyBodyFlows) {
  // The first answer is a 503 with a large unsized body: retried (5xx), its body dropped
  // with its connection; the second streams to the client.
  ScriptedBackend backend([](Received& r, int number) {
    int fd = r.fd;
    if (number == 0) {
      writeAll(fd, "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n");
      writeAll(fd, fmt::format("{:x}\r\n{}\r\n", 100000, pattern(100000)));
      return false;  // no last chunk: the retry must not wait for it
    }
    writeAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    return true;
  });
  start(backend.port(), 1);
  Client client(gatewayPort_);
  client.send("/");
  beast::error_code error;
  auto answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.result_int(), 200u);
  EXPECT_EQ(answer.body(), "ok");
  EXPECT_EQ(backend.connections(), 2) << "the abandoned body's connection is not reused";
}


// --- request bodies ------------------------------------------------------------------------

void sendRaw(Client& client, std::string_view bytes) { writeAll(client.socket.native_handle(), bytes); }

// The Content-Length of a raw request head, or 0.
// The head's Content-Length (field names are case-insensitive: an HTTP/2 client's arrive
// lower case).
size_t contentLength(const std::string& head) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto at = lower.find("\r\ncontent-length: ");
  return at == std::string::npos ? 0 : std::stoul(lower.substr(at + 18));
}

TEST_F(StreamedBodyTest, ARequestBodyOverTheBufferLimitStreamsToTheUpstreamWhole) {
  const std::string body = pattern(20 * 1024 * 1024);  // over kMaxBodyBytes: once a 413
  std::string seenHead;
  bool same = false;
  ScriptedBackend backend([&](Received& r, int number) {
    size_t size = contentLength(r.head);
    if (!r.readAtLeast(size)) return false;
    if (number == 0) {
      seenHead = r.head;
      same = r.rest.substr(0, size) == body;
    }
    r.rest.erase(0, size);
    writeAll(r.fd, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nreceived");
    return true;
  });
  start(backend.port());
  Client client(gatewayPort_);
  sendRaw(client, fmt::format("POST /upload HTTP/1.1\r\nHost: backend.example.com\r\nContent-Length: {}\r\n\r\n", body.size()));
  sendRaw(client, body);
  beast::error_code error;
  auto answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.result_int(), 200u) << answer.body();
  EXPECT_EQ(answer.body(), "received");
  EXPECT_TRUE(same) << "the upstream got the body byte for byte";
  EXPECT_NE(seenHead.find(fmt::format("Content-Length: {}\r\n", body.size())), std::string::npos) << seenHead;
  // The body was read to its end: the client connection carries the next request.
  sendRaw(client, "POST /upload HTTP/1.1\r\nHost: backend.example.com\r\nContent-Length: 0\r\n\r\n");
  auto again = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(again.body(), "received");
  EXPECT_EQ(backend.connections(), 1) << "and the upstream connection went back to the pool";
}

TEST_F(StreamedBodyTest, AnHttp2ClientsLargeUploadStreamsToTheUpstream) {
  if (findInPath("curl").empty()) GTEST_SKIP() << "curl is not installed";
  const std::string body = pattern(20 * 1024 * 1024);  // over kMaxBodyBytes: once a 413
  std::string file = fmt::format("/tmp/weft-h2-upload-{}", getpid());
  ASSERT_TRUE(writeFileAtomically(file, body));
  std::atomic<bool> same{false};
  ScriptedBackend backend([&](Received& r, int) {
    size_t size = contentLength(r.head);
    if (!r.readAtLeast(size)) return false;
    same = r.rest.substr(0, size) == body;
    r.rest.erase(0, size);
    writeAll(r.fd, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nreceived");
    return true;
  });
  start(backend.port());
  auto got = runCommand({"curl", "-s", "--max-time", "20", "--http2-prior-knowledge", "-H", "Host: backend.example.com", "--data-binary",
                         "@" + file, "-w", " %{http_code}", fmt::format("http://127.0.0.1:{}/upload", gatewayPort_)});
  std::filesystem::remove(file);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->output, "received 200");
  EXPECT_TRUE(same) << "the upstream got the body byte for byte";
  EXPECT_NE(metrics().find(fmt::format("}} {}\n", body.size())), std::string::npos) << "the request's bytes, recorded";
}

TEST_F(StreamedBodyTest, AnHttp2ClientsLargeUploadStreamsToAnHttp2Upstream) {
  if (findInPath("curl").empty()) GTEST_SKIP() << "curl is not installed";
  H2DownstreamOptions options;
  options.streamRequestBodies = true;
  testing::H2TestServer backend(options, [](H2Request request, std::shared_ptr<StreamedBody> body) {
    return testing::countReceived(std::move(request), std::move(body));
  });
  start(backend.port(), 0, 0, true);
  std::string file = fmt::format("/tmp/weft-h2-upload2-{}", getpid());
  ASSERT_TRUE(writeFileAtomically(file, pattern(20 * 1024 * 1024)));  // over what a held body may be
  auto got = runCommand({"curl", "-s", "--max-time", "20", "--http2-prior-knowledge", "-H", "Host: backend.example.com", "--data-binary",
                         "@" + file, fmt::format("http://127.0.0.1:{}/upload", gatewayPort_)});
  std::filesystem::remove(file);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->output, fmt::format("streamed {}", 20 * 1024 * 1024)) << "HTTP/2 all the way, never held";
}

TEST_F(StreamedBodyTest, AnHttp1ClientsLargeUploadStreamsToAnHttp2Upstream) {
  if (findInPath("curl").empty()) GTEST_SKIP() << "curl is not installed";
  H2DownstreamOptions options;
  options.streamRequestBodies = true;
  testing::H2TestServer backend(options, [](H2Request request, std::shared_ptr<StreamedBody> body) {
    return testing::countReceived(std::move(request), std::move(body));
  });
  start(backend.port(), 0, 0, true);
  std::string file = fmt::format("/tmp/weft-h1-upload-h2-{}", getpid());
  ASSERT_TRUE(writeFileAtomically(file, pattern(20 * 1024 * 1024)));  // over what a held body may be
  auto got = runCommand({"curl", "-s", "--max-time", "20", "-H", "Host: backend.example.com", "--data-binary", "@" + file,
                         fmt::format("http://127.0.0.1:{}/upload", gatewayPort_)});
  std::filesystem::remove(file);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->output, fmt::format("streamed {}", 20 * 1024 * 1024)) << "HTTP/1.1 in, HTTP/2 out, never held (once a 413)";
}

TEST_F(StreamedBodyTest, AnHttp1ChunkedBodyReachesAnHttp2UpstreamAsItArrivesAndTheConnectionCarriesOn) {
  H2DownstreamOptions options;
  options.streamRequestBodies = true;
  std::atomic<bool> sawFirst{false};
  testing::H2TestServer backend(options, [&sawFirst](H2Request request, std::shared_ptr<StreamedBody> body) {
    return testing::countReceived(std::move(request), std::move(body), &sawFirst);
  });
  start(backend.port(), 0, 0, true);
  Client client(gatewayPort_);
  sendRaw(client, "POST /events HTTP/1.1\r\nHost: backend.example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  // The rest only once the upstream holds the first chunk: a gateway that held the body
  // would wait here forever.
  for (int i = 0; i < 1000 && !sawFirst; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(sawFirst) << "the first chunk reached the HTTP/2 upstream before the body ended";
  sendRaw(client, "6\r\n world\r\n0\r\n\r\n");
  beast::error_code error;
  auto answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.body(), "streamed 11");
  // The body was read to its end, so the connection serves the next request.
  client.send("/again");
  auto again = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(again.body(), "held 0");
}

TEST_F(StreamedBodyTest, AnHttp2AnswerBeforeAnHttp1BodyEndsClosesThatClientOnly) {
  H2DownstreamOptions options;
  options.streamRequestBodies = true;
  // Answers at once, reading none of the body: the gateway's sender is then waiting for
  // more of the client's body when the answer is out, and the session must take its
  // connection back from it.
  testing::H2TestServer backend(options, [](H2Request request, std::shared_ptr<StreamedBody> body) {
    if (body != nullptr) return testing::countReceived(std::move(request), nullptr);
    return testing::countReceived(std::move(request), std::move(body));
  });
  start(backend.port(), 0, 0, true);
  Client client(gatewayPort_);
  sendRaw(client, "POST /early HTTP/1.1\r\nHost: backend.example.com\r\nContent-Length: 300000\r\n\r\n");
  sendRaw(client, pattern(100000));
  beast::error_code error;
  auto answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.result_int(), 200u);
  EXPECT_EQ(answer.body(), "held 0");
  EXPECT_FALSE(answer.keep_alive()) << "a body left unread: the connection cannot carry another request";
  char byte;
  EXPECT_EQ(::recv(client.socket.native_handle(), &byte, 1, 0), 0) << "and it closes";
  // The gateway gives up on the rest after its lingering close (1 s) and frees the
  // connection: a sender still reading it then would read through a body that is gone (a
  // sanitizer build reports it).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Client next(gatewayPort_);
  next.send("/after");
  auto after = next.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(after.body(), "held 0") << "other clients are served as before";
}

TEST_F(StreamedBodyTest, AChunkedRequestBodyReachesTheUpstreamAsItArrives) {
  std::promise<void> upstreamSawFirst;
  std::string seenHead;
  std::string seenBody;
  ScriptedBackend backend([&](Received& r, int) {
    seenHead = r.head;
    if (!r.readUntil("hello\r\n")) return false;
    upstreamSawFirst.set_value();
    if (!r.readUntil("0\r\n\r\n")) return false;
    seenBody = r.rest;
    r.rest.clear();
    writeAll(r.fd, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    return true;
  });
  start(backend.port());
  Client client(gatewayPort_);
  sendRaw(client, "POST /events HTTP/1.1\r\nHost: backend.example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  // The rest only once the upstream holds the first chunk: a gateway that waited for the
  // whole body would wait here forever.
  ASSERT_EQ(upstreamSawFirst.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  sendRaw(client, "6\r\n world\r\n0\r\n\r\n");
  beast::error_code error;
  auto answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.result_int(), 201u);
  EXPECT_NE(seenHead.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << seenHead;
  EXPECT_EQ(seenBody, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
}

TEST_F(StreamedBodyTest, AClientThatBreaksOffItsBodyGets400AndTheUpstreamConnectionEnds) {
  std::promise<bool> upstreamSawEnd;
  ScriptedBackend backend([&](Received& r, int) {
    bool whole = r.readAtLeast(300000);  // never: the gateway closes after 100,000
    upstreamSawEnd.set_value(whole);
    return false;
  });
  start(backend.port());
  Client client(gatewayPort_);
  sendRaw(client, "POST / HTTP/1.1\r\nHost: backend.example.com\r\nContent-Length: 300000\r\n\r\n");
  sendRaw(client, pattern(100000));
  client.socket.shutdown(tcp::socket::shutdown_send);  // and the client stops sending
  beast::error_code error;
  auto answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.result_int(), 400u);
  auto ended = upstreamSawEnd.get_future();
  ASSERT_EQ(ended.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(ended.get()) << "the upstream saw its connection end short of the body";
  // The gateway records the request after its answer is written and before it closes: the
  // close, not the answer, says the metrics are in.
  char byte;
  EXPECT_EQ(::recv(client.socket.native_handle(), &byte, 1, 0), 0) << "the connection closes after a broken-off body";
  std::string text = metrics();
  EXPECT_NE(text.find("response_flags=\"DC\""), std::string::npos) << text.substr(0, 2000);
}

TEST_F(StreamedBodyTest, ARequestWhoseBodyFlowedIsNotRetriedASmallOneIs) {
  std::atomic<int> requests{0};
  ScriptedBackend backend([&](Received& r, int) {
    ++requests;
    size_t size = contentLength(r.head);
    if (!r.readAtLeast(size)) return false;
    r.rest.erase(0, size);
    writeAll(r.fd, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
    return true;
  });
  start(backend.port(), 1);
  Client client(gatewayPort_);
  const std::string large = pattern(200000);
  sendRaw(client, fmt::format("PUT /big HTTP/1.1\r\nHost: backend.example.com\r\nContent-Length: {}\r\n\r\n{}", large.size(), large));
  beast::error_code error;
  auto answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.result_int(), 503u);
  EXPECT_EQ(requests.load(), 1) << "its body is gone: not sent again";
  sendRaw(client, "PUT /small HTTP/1.1\r\nHost: backend.example.com\r\nContent-Length: 5\r\n\r\nsmall");
  answer = client.receive(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer.result_int(), 503u);
  EXPECT_EQ(requests.load(), 3) << "a held body is sent again on retry";
}

}  // namespace
}  // namespace weft::proxy
