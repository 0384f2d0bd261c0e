// Peers the HBONE server and client must refuse, each with its own counter.

#include <openssl/ssl.h>

#include <boost/asio/this_coro.hpp>

#include "hbone/hbone_fixture.h"
#include "hbone/tls_handshake.h"

namespace weft::hbone::testing {
namespace {

using namespace std::chrono_literals;

// A hand-made TLS client context, to be wrong in one way at a time.
std::shared_ptr<asio::ssl::context> clientContext(const TlsCredentials& credentials, int maxVersion, bool offerH2) {
  auto context = makeClientTlsContext(credentials).value();
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, maxVersion);
  if (!offerH2) {
    static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx, kHttp11, sizeof kHttp11);
  }
  return context;
}

// Connects and handshakes with `context`; returns the handshake error (empty if it passed)
// and, after a successful handshake, whether the server then dropped the connection.
struct RawOutcome {
  boost::system::error_code handshake;
  boost::system::error_code firstRead;
};

asio::awaitable<RawOutcome> rawTls(tcp::endpoint server, std::shared_ptr<asio::ssl::context> context,
                                   std::string sendAfter = {}) {
  RawOutcome outcome;
  TlsStream stream(co_await asio::this_coro::executor, *context);
  co_await stream.lowest_layer().async_connect(server, kUseTuple);
  std::tie(outcome.handshake) = co_await stream.async_handshake(asio::ssl::stream_base::client, kUseTuple);
  if (outcome.handshake) co_return outcome;
  if (!sendAfter.empty()) co_await asio::async_write(stream, asio::buffer(sendAfter), kUseTuple);
  std::vector<char> buffer(4096);
  while (!outcome.firstRead) std::tie(outcome.firstRead, std::ignore) = co_await stream.async_read_some(asio::buffer(buffer), kUseTuple);
  co_return outcome;
}

TEST_F(HboneLoopback, ClientFromAnotherTrustDomainIsRefused) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto t = target();
    t.sourceIdentity = "spiffe://other.local/ns/default/sa/client";
    t.tls = makeClientTlsContext(mesh_->issue(t.sourceIdentity)).value();
    auto stream = co_await pool().connect(t);
    EXPECT_FALSE(stream.ok());
    EXPECT_EQ(stream.status(), 0);
    EXPECT_EQ(co_await waitFor(serverCounters_.trustDomainRefusals), 1u);
  });
  EXPECT_TRUE(requests_.empty());
  EXPECT_EQ(serverCounters_.streamsOpened.load(), 0u);
}

TEST_F(HboneLoopback, ServerWithAnUnexpectedIdentityIsRefused) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto t = target("spiffe://cluster.local/ns/default/sa/someone-else");
    t.expectedServerIds = {t.destinationIdentity};
    auto stream = co_await pool().connect(t);
    EXPECT_FALSE(stream.ok());
    EXPECT_NE(stream.error().message.find("not an expected identity"), std::string::npos) << stream.error().message;
  });
  EXPECT_EQ(clientCounters_.serverIdentityRefusals.load(), 1u);
  EXPECT_EQ(clientCounters_.connectionsOpened.load(), 0u);
}

TEST_F(HboneLoopback, PlainTcpGarbageIsRefused) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    tcp::socket socket(io_);
    co_await socket.async_connect(hboneEndpoint(), kUseTuple);
    co_await asio::async_write(socket, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), kUseTuple);
    std::vector<char> buffer(4096);
    boost::system::error_code ec;
    for (int i = 0; i < 100 && !ec; ++i) std::tie(ec, std::ignore) = co_await socket.async_read_some(asio::buffer(buffer), kUseTuple);
    EXPECT_TRUE(ec) << "the server must close the connection";
    EXPECT_EQ(co_await waitFor(serverCounters_.tlsHandshakeFailures), 1u);
  });
}

TEST_F(HboneLoopback, Tls12ClientIsRefused) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto outcome = co_await rawTls(hboneEndpoint(), clientContext(mesh_->issue(kClientId), TLS1_2_VERSION, true));
    EXPECT_TRUE(outcome.handshake);
    EXPECT_EQ(co_await waitFor(serverCounters_.tlsHandshakeFailures), 1u);
  });
}

TEST_F(HboneLoopback, ClientWithoutAlpnH2IsRefused) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto outcome = co_await rawTls(hboneEndpoint(), clientContext(mesh_->issue(kClientId), TLS1_3_VERSION, false));
    EXPECT_TRUE(outcome.handshake || outcome.firstRead);
    EXPECT_EQ(co_await waitFor(serverCounters_.alpnRefusals), 1u);
  });
  EXPECT_EQ(serverCounters_.tlsHandshakeFailures.load(), 0u);
}

TEST_F(HboneLoopback, ClientWithoutCertificateIsRefused) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_verify(context->native_handle(), SSL_VERIFY_NONE, nullptr);
    static const unsigned char kH2[] = {2, 'h', '2'};
    SSL_CTX_set_alpn_protos(context->native_handle(), kH2, sizeof kH2);
    auto outcome = co_await rawTls(hboneEndpoint(), context);
    EXPECT_TRUE(outcome.handshake || outcome.firstRead);
    EXPECT_EQ(co_await waitFor(serverCounters_.tlsHandshakeFailures), 1u);
  });
}

TEST_F(HboneLoopback, GarbageAfterTlsIsABadPreface) {
  runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto outcome = co_await rawTls(hboneEndpoint(), clientContext(mesh_->issue(kClientId), TLS1_3_VERSION, true),
                                   "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_FALSE(outcome.handshake);
    EXPECT_TRUE(outcome.firstRead) << "the server must close the connection";
    EXPECT_EQ(co_await waitFor(serverCounters_.badPrefaces), 1u);
  });
}

}  // namespace
}  // namespace weft::hbone::testing
