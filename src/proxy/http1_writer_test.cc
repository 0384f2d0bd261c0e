#include "proxy/http1_writer.h"

#include <gtest/gtest.h>

#include <boost/beast/http/write.hpp>
#include <sstream>

namespace weft::proxy {
namespace {

namespace http = boost::beast::http;
namespace asio = boost::asio;

template <bool isRequest>
std::string gathered(const http::message<isRequest, http::string_body>& message) {
  std::string scratch;
  auto buffers = gatherMessage(message, scratch);
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

template <bool isRequest>
std::string beastWrites(const http::message<isRequest, http::string_body>& message) {
  std::ostringstream out;
  out << message;
  return out.str();
}

TEST(Http1Writer, RequestMatchesBeast) {
  http::request<http::string_body> request{http::verb::post, "/anything?x=1", 11};
  request.set(http::field::host, "example.com");
  request.set("x-forwarded-for", "198.18.0.1");
  request.insert("x-dup", "a");
  request.insert("x-dup", "b");
  request.body() = "hello";
  request.prepare_payload();
  EXPECT_EQ(gathered(request), beastWrites(request));
  EXPECT_EQ(gathered(request).substr(0, 33), "POST /anything?x=1 HTTP/1.1\r\nHost");
}

TEST(Http1Writer, UnknownMethodAndHttp10) {
  http::request<http::string_body> request;
  request.method_string("PURGE");
  request.target("/");
  request.version(10);
  request.set(http::field::host, "h");
  EXPECT_EQ(gathered(request), beastWrites(request));
}

TEST(Http1Writer, ResponseKeepsAnUpstreamsReasonPhrase) {
  http::response<http::string_body> response{http::status::ok, 11};
  response.reason("Fine Thanks");
  response.set(http::field::server, "istio-envoy");
  response.body() = std::string(1024, 'x');
  response.prepare_payload();
  std::string bytes = gathered(response);
  EXPECT_EQ(bytes, beastWrites(response));
  EXPECT_EQ(bytes.substr(0, 26), "HTTP/1.1 200 Fine Thanks\r\n");
}

TEST(Http1Writer, ResponseWithoutReasonGetsTheStandardOne) {
  http::response<http::string_body> response{http::status::too_many_requests, 11};
  response.body() = "local_rate_limited";
  response.prepare_payload();
  EXPECT_EQ(gathered(response), beastWrites(response));
  EXPECT_EQ(gathered(response).substr(0, 31), "HTTP/1.1 429 Too Many Requests\r");
}

TEST(Http1Writer, UnknownStatusCode) {
  http::response<http::string_body> response;
  response.result(599);
  response.version(11);
  EXPECT_EQ(gathered(response), beastWrites(response));
}

TEST(Http1Writer, ChunkedBodyIsOneChunkThenTheLast) {
  http::response<http::string_body> response{http::status::ok, 11};
  response.body() = "abcdefghijklmnopq";  // 17 bytes: "11" in hex
  response.chunked(true);
  EXPECT_EQ(gathered(response), beastWrites(response));
  // An empty chunked body is the last chunk alone. (Beast writes a zero-size chunk and then
  // the last chunk, "0\r\n\r\n" twice: the peer reads the second as the start of the next
  // message.)
  http::response<http::string_body> empty{http::status::ok, 11};
  empty.chunked(true);
  EXPECT_EQ(gathered(empty), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
}

TEST(Http1Writer, LargeBodyIsItsOwnBufferNotACopy) {
  http::response<http::string_body> response{http::status::ok, 11};
  response.body() = std::string(100 * 1024, 'y');
  response.prepare_payload();
  std::string scratch;
  auto buffers = gatherMessage(response, scratch);
  EXPECT_EQ(buffers[1].data(), response.body().data());
  EXPECT_EQ(buffers[1].size(), response.body().size());
  EXPECT_EQ(gathered(response), beastWrites(response));
}

TEST(Http1Writer, ScratchIsReusedAcrossMessages) {
  std::string scratch;
  http::response<http::string_body> first{http::status::ok, 11};
  first.body() = std::string(4000, 'a');
  first.prepare_payload();
  (void)gatherMessage(first, scratch);
  http::response<http::string_body> second{http::status::not_found, 11};
  second.prepare_payload();
  auto buffers = gatherMessage(second, scratch);
  EXPECT_EQ(std::string(static_cast<const char*>(buffers[0].data()), buffers[0].size()), beastWrites(second));
}

}  // namespace
}  // namespace weft::proxy
