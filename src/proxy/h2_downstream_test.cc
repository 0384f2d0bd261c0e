// The gateway's HTTP/2 side against real clients: curl (--http2-prior-knowledge), nghttp,
// h2load and a client on hbone::H2Codec, on loopback, with a responder that echoes what it
// was asked, and one whose answers' bodies come in pieces (streamed_body.h).
#include "proxy/h2_downstream.h"
#include "proxy/streaming_test_support.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include "hbone/h2_codec.h"

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

// Answers every request with what it saw: "METHOD target host=H body=N" (N the body's bytes,
// held or streamed) and headers; `x-streamed` says how the body came.
asio::awaitable<H2Answer> echo(H2Request request, std::shared_ptr<StreamedBody> body) {
  size_t bytes = request.body().size();
  while (body != nullptr) {
    auto piece = co_await body->next();
    if (!piece || piece->empty()) break;
    bytes += piece->size();
  }
  H2Response response{http::status::ok, 11};
  response.set("x-echo-method", request.method_string());
  response.set("x-streamed", body != nullptr ? "yes" : "no");
  response.body() = fmt::format("{} {} host={} body={}", std::string(request.method_string()), std::string(request.target()),
                                std::string(request[http::field::host]), bytes);
  response.prepare_payload();
  H2Answer answer{std::move(response), {}};
  // Asked for trailers: they follow the body in a trailing HEADERS frame.
  if (auto wanted = request.find("x-want-trailer"); wanted != request.end()) answer.trailers.emplace_back("x-trailer", std::string(wanted->value()));
  co_return answer;
}

// The HTTP/2 side under test, answering with `echo` unless told otherwise.
struct H2Server : testing::H2TestServer {
  explicit H2Server(H2DownstreamOptions options = {}, H2Responder respond = echo) : H2TestServer(options, std::move(respond)) {}
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

using testing::PiecesBody;

// Answers GET /pieces/N with N pieces, streamed; `/gated` holds piece 2 until `gate`;
// `/fail` fails after 2 pieces. Each answer's end is written to `lastEnd`.
struct StreamingResponder {
  std::atomic<bool> gate{false};
  std::atomic<int> lastEnd{-1};

  // Not a coroutine itself (a capturing lambda's captures would not outlive it).
  H2Responder responder() {
    return [this](H2Request request, std::shared_ptr<StreamedBody>) { return answer(this, std::move(request)); };
  }

  static asio::awaitable<H2Answer> answer(StreamingResponder* self, H2Request request) {
    std::string target(request.target());
    size_t pieces = 2, gateAt = PiecesBody::kNever, failAfter = PiecesBody::kNever;
    if (target.rfind("/pieces/", 0) == 0) pieces = std::stoul(target.substr(8));
    if (target == "/gated") gateAt = 1;
    if (target == "/fail") pieces = 4, failAfter = 2;
    H2Answer answer;
    answer.response.result(http::status::ok);
    answer.response.set(http::field::content_type, "application/octet-stream");
    auto body = std::make_shared<PiecesBody>(pieces, gateAt, failAfter, &self->gate);
    answer.body = body.get();
    answer.finished = [self, body](RelayEnd end) { self->lastEnd = static_cast<int>(end); };
    co_return answer;
  }
};

TEST(H2Downstream, AStreamedBodyLargerThanAnyHeldOneReachesTheClientWhole) {
  if (!haveTool("/usr/bin/curl")) GTEST_SKIP() << "curl is not installed";
  StreamingResponder streaming;
  H2Server server({}, streaming.responder());
  // 320 pieces of 64 KiB: 20 MiB, over the 16 MiB a held body may have.
  std::string got = run(fmt::format("curl -s --max-time 20 --http2-prior-knowledge http://127.0.0.1:{}/pieces/320 | tr -d 'a-z' | wc -c",
                                    server.port()));
  std::string sized = run(fmt::format("curl -s --max-time 20 --http2-prior-knowledge -o /dev/null -w '%{{http_version}} %{{http_code}} %{{size_download}}' "
                                      "http://127.0.0.1:{}/pieces/320",
                                      server.port()));
  EXPECT_EQ(sized, "2 200 20971520");
  EXPECT_EQ(got, "0\n") << "only the pieces' letters came";
  EXPECT_EQ(streaming.lastEnd.load(), static_cast<int>(RelayEnd::kDone));
}

TEST(H2Downstream, TheFirstPieceReachesTheClientBeforeTheBodyEnds) {
  if (!haveTool("/usr/bin/curl")) GTEST_SKIP() << "curl is not installed";
  StreamingResponder streaming;
  H2Server server({}, streaming.responder());
  std::string file = fmt::format("/tmp/weft-h2-gated-{}", getpid());
  std::thread client([&] {
    run(fmt::format("curl -s -N --max-time 20 --http2-prior-knowledge -o {} http://127.0.0.1:{}/gated", file, server.port()));
  });
  // The second piece is made only once the client holds the first: an answer held whole
  // would never get here, and its body would fail after 10 s.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until && (!std::filesystem::exists(file) || std::filesystem::file_size(file) < PiecesBody::kPiece))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  bool sawFirst = std::filesystem::exists(file) && std::filesystem::file_size(file) >= PiecesBody::kPiece;
  streaming.gate = true;
  client.join();
  EXPECT_TRUE(sawFirst);
  EXPECT_EQ(std::filesystem::file_size(file), 2 * PiecesBody::kPiece);
  std::filesystem::remove(file);
  EXPECT_EQ(streaming.lastEnd.load(), static_cast<int>(RelayEnd::kDone));
}

TEST(H2Downstream, ABodyThatFailsMidwayResetsTheStream) {
  if (!haveTool("/usr/bin/curl")) GTEST_SKIP() << "curl is not installed";
  StreamingResponder streaming;
  H2Server server({}, streaming.responder());
  // curl reports a stream that was reset rather than ended (exit 92: INTERNAL_ERROR).
  std::string got = run(fmt::format("curl -s --max-time 10 --http2-prior-knowledge -o /dev/null http://127.0.0.1:{}/fail; echo rc=$?",
                                    server.port()));
  EXPECT_EQ(got, "rc=92\n");
  EXPECT_EQ(streaming.lastEnd.load(), static_cast<int>(RelayEnd::kSourceFailed));
  // The connection's other streams are unaffected.
  EXPECT_EQ(run(fmt::format("curl -s --max-time 10 --http2-prior-knowledge -o /dev/null -w '%{{http_code}}' http://127.0.0.1:{}/pieces/1",
                            server.port())),
            "200");
}

// A client that keeps its connection alive (PINGs) but never opens its flow-control window:
// the stream is reset once the body has waited the idle timeout, and the body is let go.
TEST(H2Downstream, AClientThatTakesNoneOfTheBodyLosesTheStream) {
  StreamingResponder streaming;
  H2DownstreamOptions options;
  options.streamIdleTimeout = std::chrono::milliseconds(400);
  H2Server server(options, streaming.responder());
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), server.port()});
  socket.non_blocking(true);
  auto settings = hbone::H2Settings::client();
  settings.streamWindow = 65535;  // and nothing is ever consumed: the window stays shut
  auto codec = hbone::H2Codec::make(hbone::H2Role::kClient, settings).value();
  hbone::H2Codec::RequestHead head{"GET", "http", "example.com", "/pieces/100"};
  ASSERT_TRUE(codec->submitRequest(head, {}, true));
  std::optional<uint32_t> resetCode;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (!resetCode && std::chrono::steady_clock::now() < until) {
    codec->submitPing();
    std::string out = codec->takeOutput();
    asio::write(socket, asio::buffer(out));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    char chunk[65536];
    boost::system::error_code error;
    size_t got = socket.read_some(asio::buffer(chunk), error);
    if (error == asio::error::would_block) continue;
    ASSERT_FALSE(error) << error.message();
    (void)codec->receive({reinterpret_cast<const uint8_t*>(chunk), got});
    for (auto& event : codec->takeEvents()) {
      if (auto* closed = std::get_if<hbone::StreamClosedEvent>(&event)) resetCode = closed->errorCode;
    }
  }
  ASSERT_TRUE(resetCode) << "the stream was never given up";
  EXPECT_EQ(*resetCode, 0x8u);  // CANCEL
  auto settled = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (streaming.lastEnd.load() < 0 && std::chrono::steady_clock::now() < settled) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(streaming.lastEnd.load(), static_cast<int>(RelayEnd::kSinkFailed));
}

// A streamed upload is handed over as it arrives: the client sends the rest only once the
// responder holds the first piece (a request held whole would never get there).
TEST(H2Downstream, AnUploadReachesTheResponderBeforeItEnds) {
  if (!haveTool("/usr/bin/curl")) GTEST_SKIP() << "curl is not installed";
  H2DownstreamOptions options;
  options.streamRequestBodies = true;
  std::atomic<bool> sawFirst{false};
  H2Server server(options, [&sawFirst](H2Request request, std::shared_ptr<StreamedBody> body) {
    return testing::countReceived(std::move(request), std::move(body), &sawFirst);
  });
  std::string fifo = fmt::format("/tmp/weft-h2-upload-{}", getpid());
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string answer;
  std::thread client([&] {
    answer = run(fmt::format("curl -s --max-time 20 --http2-prior-knowledge -T - -H 'content-type: application/octet-stream' "
                             "http://127.0.0.1:{}/up < {}",
                             server.port(), fifo));
  });
  {
    std::ofstream to(fifo, std::ios::binary);  // opens once curl's shell opens the other end
    to << std::string(100000, 'x') << std::flush;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!sawFirst && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(sawFirst) << "the responder had nothing before the upload ended";
    to << std::string(100000, 'y') << std::flush;
  }
  client.join();
  ::unlink(fifo.c_str());
  EXPECT_EQ(answer, "streamed 200000");
  // A small body with a length is still held, and so is everything without the option.
  std::string small = run(fmt::format("curl -s --max-time 5 --http2-prior-knowledge -d hello http://127.0.0.1:{}/small", server.port()));
  EXPECT_EQ(small, "held 5");
}

// A streamed answer that ends while the client is still uploading tells the client to
// stop: RST_STREAM NO_ERROR once the end is out (RFC 9113 §8.1), not a stream left open.
TEST(H2Downstream, AnAnswerThatEndsFirstResetsTheStillOpenUpload) {
  StreamingResponder streaming;
  H2DownstreamOptions options;
  options.streamRequestBodies = true;
  H2Server server(options, streaming.responder());
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), server.port()});
  auto codec = hbone::H2Codec::make(hbone::H2Role::kClient, hbone::H2Settings::client()).value();
  hbone::H2Codec::RequestHead head{"PUT", "http", "example.com", "/pieces/2"};
  auto id = codec->submitRequest(head, {}, false);  // the upload stays open
  ASSERT_TRUE(id);
  std::string upload(1000, 'x');
  ASSERT_TRUE(codec->submitData(*id, {reinterpret_cast<const uint8_t*>(upload.data()), upload.size()}));
  size_t received = 0;
  bool ended = false;
  std::optional<uint32_t> closedWith;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  timeval tenth{0, 100000};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tenth, sizeof tenth);
  while (!closedWith && std::chrono::steady_clock::now() < until) {
    asio::write(socket, asio::buffer(codec->takeOutput()));
    char chunk[65536];
    ssize_t got = ::recv(socket.native_handle(), chunk, sizeof chunk, 0);
    if (got == 0) break;
    if (got < 0) continue;  // nothing yet
    (void)codec->receive({reinterpret_cast<const uint8_t*>(chunk), static_cast<size_t>(got)});
    for (auto& event : codec->takeEvents()) {
      if (auto* data = std::get_if<hbone::StreamDataEvent>(&event)) {
        received += data->data.size();
        codec->consume(data->streamId, data->data.size());
      } else if (std::holds_alternative<hbone::StreamEndEvent>(event)) {
        ended = true;
      } else if (auto* closed = std::get_if<hbone::StreamClosedEvent>(&event)) {
        closedWith = closed->errorCode;
      }
    }
  }
  EXPECT_EQ(received, 2 * PiecesBody::kPiece);
  EXPECT_TRUE(ended);
  ASSERT_TRUE(closedWith) << "the client's half of the stream was left open";
  EXPECT_EQ(*closedWith, 0u) << "NO_ERROR: stop sending, the answer is whole";
  EXPECT_EQ(streaming.lastEnd.load(), static_cast<int>(RelayEnd::kDone));
}

}  // namespace
}  // namespace weft::proxy
