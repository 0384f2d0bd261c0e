// The gateway's TCP routes and TLS passthrough with real parts on loopback: clients on
// blocking sockets (OpenSSL through Asio for TLS), a TLS backend holding a certificate the
// gateway never sees (so a finished handshake proves the TLS went through untouched), a
// plain echo backend that answers only once the client has half-closed (so half-close is
// proven to travel), and an HBONE server standing in for a mesh endpoint's ztunnel.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <future>
#include <memory>
#include <optional>
#include <sys/socket.h>
#include <thread>

#include "hbone/test_support.h"
#include "proxy/gateway_server.h"
#include "proxy/grpc_test_support.h"
#include "proxy/polling_test_support.h"
#include "proxy/ztunnel_stand_in.h"
#include "tls/x509_info.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using hbone::testing::TestMesh;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
const std::string kGatewayId = "spiffe://cluster.local/ns/istio-system/sa/gateway";
const std::string kBackendId = "spiffe://cluster.local/ns/default/sa/backend";
const std::string kTerminatorId = "spiffe://cluster.local/ns/istio-system/sa/terminating-server";

// Backends on their own io thread: `tls` answers "sni=<name> got=<first bytes>" inside
// the TLS it terminates; `echo` reads to the end of the client's stream, then answers
// "echo:<all of it>" and closes.
class Backends {
 public:
  explicit Backends(const hbone::TlsCredentials& credentials) : tls_(asio::ssl::context::tls_server) {
    tls_.use_certificate_chain(asio::buffer(credentials.certChainPem));
    tls_.use_private_key(asio::buffer(credentials.keyPem), asio::ssl::context::pem);
    for (auto* acceptor : {&tlsAcceptor_, &echoAcceptor_}) {
      acceptor->open(tcp::v4());
      acceptor->bind({asio::ip::make_address("127.0.0.1"), 0});
      acceptor->listen();
    }
    asio::co_spawn(io_, acceptTls(), asio::detached);
    asio::co_spawn(io_, acceptEcho(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Backends() {
    asio::post(io_, [this] { io_.stop(); });
    thread_.join();
  }
  std::string tlsEndpoint() const { return fmt::format("127.0.0.1:{}", tlsAcceptor_.local_endpoint().port()); }
  std::string echoEndpoint() const { return fmt::format("127.0.0.1:{}", echoAcceptor_.local_endpoint().port()); }

 private:
  asio::awaitable<void> acceptTls() {
    while (true) {
      auto [ec, socket] = co_await tlsAcceptor_.async_accept(kUseTuple);
      if (ec) co_return;
      asio::co_spawn(io_, serveTls(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serveTls(tcp::socket socket) {
    asio::ssl::stream<tcp::socket> stream(std::move(socket), tls_);
    auto [handshakeError] = co_await stream.async_handshake(asio::ssl::stream_base::server, kUseTuple);
    if (handshakeError) co_return;
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    char buffer[256];
    auto [readError, n] = co_await stream.async_read_some(asio::buffer(buffer), kUseTuple);
    if (readError) co_return;
    std::string answer = fmt::format("sni={} got={}", sni == nullptr ? "" : sni, std::string(buffer, n));
    co_await asio::async_write(stream, asio::buffer(answer), kUseTuple);
    co_await stream.async_shutdown(kUseTuple);
  }
  asio::awaitable<void> acceptEcho() {
    while (true) {
      auto [ec, socket] = co_await echoAcceptor_.async_accept(kUseTuple);
      if (ec) co_return;
      asio::co_spawn(io_, serveEcho(std::move(socket)), asio::detached);
    }
  }
  static asio::awaitable<void> serveEcho(tcp::socket socket) {
    std::string all;
    auto [ec, n] = co_await asio::async_read(socket, asio::dynamic_buffer(all), kUseTuple);  // until EOF
    if (ec != asio::error::eof) co_return;
    std::string answer = "echo:" + all;
    co_await asio::async_write(socket, asio::buffer(answer), kUseTuple);
  }

  asio::io_context io_;
  asio::ssl::context tls_;
  tcp::acceptor tlsAcceptor_{io_};
  tcp::acceptor echoAcceptor_{io_};
  std::thread thread_;
};

// A backend that takes connections and never reads, writes or closes them (until it goes),
// whatever the client does: what a relay must not wait on for ever at shutdown.
class SilentBackend {
 public:
  SilentBackend() {
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread([this] {
      while (true) {
        boost::system::error_code ec;
        tcp::socket socket(io_);
        acceptor_.accept(socket, ec);
        if (ec) return;
        held_.push_back(std::move(socket));
      }
    });
  }
  ~SilentBackend() {
    boost::system::error_code ignored;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // ends the blocking accept
    thread_.join();
    acceptor_.close(ignored);
  }
  std::string endpoint() const { return fmt::format("127.0.0.1:{}", acceptor_.local_endpoint().port()); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::vector<tcp::socket> held_;  // the accept thread's
  std::thread thread_;
};

ServerOptions testOptions(uint16_t hbonePort) {
  ServerOptions options;
  options.hboneServerPort = hbonePort;
  options.headerTimeout = std::chrono::milliseconds(300);  // a silent client is closed soon
  options.connectTimeout = std::chrono::milliseconds(1000);
  options.tcpReportInterval = std::chrono::milliseconds(50);
  return options;
}

class GatewayTcpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mesh_ = new TestMesh(); }
  static void TearDownTestSuite() { delete mesh_; }

  template <class F>
  auto onIo(F f) {
    return testing::runOnIo(io_, std::move(f));
  }

  void SetUp() override {
    gatewayPort_ = testing::freePort();
    ztunnel_.start(hbone::makeServerTlsContext(mesh_->issue("spiffe://cluster.local/ns/default/sa/ztunnel-of-backend")).value());
  }
  void TearDown() override {
    if (thread_.joinable()) {
      onIo([this] {
        ztunnel_.close();
        server_.stop();
        return 0;
      });
      io_.stop();
      thread_.join();
      io_.restart();
      hbone::testing::drain(io_);
    }
  }

  // A listener on the gateway's port with `protocol` and these routes; each route's one
  // cluster named after it, "<route>.default.svc.cluster.local", with `endpoints`.
  struct RouteSpec {
    std::string name;
    std::vector<std::string> sniHosts;
    std::vector<std::string> endpoints;
    std::string hboneIdentity;  // set: the endpoints are in the mesh
    weft::v1::ConnectionPool pool{};
  };
  // `terminatedHosts`: an HTTPS server on the same port for these names, with a
  // certificate of kTerminatorId, which the gateway terminates.
  // `policies`: AuthorizationPolicies of the gateway's workload.
  void start(weft::v1::Listener::Protocol protocol, const std::vector<RouteSpec>& routes, const std::vector<std::string>& terminatedHosts = {},
             std::vector<weft::v1::HttpAuthorization> policies = {}) {
    xds::HeldResources held;
    for (auto& p : policies) *held[kHttpAuthorizationType][p.namespace_() + "/" + p.name()].mutable_http_authorization() = std::move(p);
    auto& l = held[kListenerType]["gw/443"];
    l.set_name("gw/443");
    auto* listener = l.mutable_listener();
    listener->set_name("gw/443");
    listener->set_port(443);
    listener->set_bind_port(gatewayPort_);
    listener->set_protocol(protocol);
    (*listener->mutable_selector())["istio"] = "ingressgateway";
    if (!terminatedHosts.empty()) {
      auto* server = listener->add_tls_servers();
      server->set_credential_name("terminator");
      for (const auto& host : terminatedHosts) server->add_hosts(host);
      if (relayTerminatedTo_) {
        // Protocol TLS rather than HTTPS: terminated, then relayed to this endpoint.
        server->set_terminate_tcp(true);
        const std::string clusterName = "outbound|443||terminated.default.svc.cluster.local";
        auto* route = server->add_tcp_routes();
        route->set_name("terminated");
        auto* to = route->add_clusters();
        to->set_cluster(clusterName);
        to->set_weight(1);
        auto* cluster = held[kClusterType][clusterName].mutable_cluster();
        cluster->set_name(clusterName);
        cluster->set_service_hostname("terminated.default.svc.cluster.local");
        cluster->set_service_namespace("default");
        cluster->add_endpoints(*relayTerminatedTo_);
      }
    }
    for (const auto& spec : routes) {
      std::string clusterName = fmt::format("outbound|443||{}.default.svc.cluster.local", spec.name);
      auto* route = listener->add_tcp_routes();
      route->set_name(spec.name);
      for (const auto& sni : spec.sniHosts) route->add_sni_hosts(sni);
      auto* to = route->add_clusters();
      to->set_cluster(clusterName);
      to->set_weight(100);
      auto& c = held[kClusterType][clusterName];
      c.set_name(clusterName);
      auto* cluster = c.mutable_cluster();
      cluster->set_name(clusterName);
      cluster->set_service_hostname(spec.name + ".default.svc.cluster.local");
      cluster->set_service_namespace("default");
      cluster->set_service_known(true);
      *cluster->mutable_connection_pool() = spec.pool;
      for (const auto& endpoint : spec.endpoints) {
        cluster->add_endpoints(endpoint);
        if (!spec.hboneIdentity.empty()) (*cluster->mutable_hbone_identities())[endpoint] = spec.hboneIdentity;
      }
    }
    auto terminator = mesh_->issue(kTerminatorId);
    CredentialLoader credentials = [terminator](const std::string&, const std::string&) -> Result<ServerCredential> {
      return ServerCredential{terminator.certChainPem, terminator.keyPem, ""};
    };
    auto config = ProxyConfig::build(held, {{"istio", "ingressgateway"}}, credentials);
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_TRUE((*config)->skipped().empty()) << (*config)->skipped().front();
    server_.setConfig(*config);
    ASSERT_TRUE(server_.applyListeners(**config));
    thread_ = std::thread([this] { io_.run(); });
  }

  // A TLS client that trusts the mesh roots, sends SNI `sni` and "hello"; what came back
  // (empty when the connection was closed before the handshake finished), and the SPIFFE
  // ID of the certificate it was shown.
  struct TlsAnswer {
    bool handshook = false;
    std::string body;
    std::string peer;
  };
  TlsAnswer tlsClient(const std::string& sni) {
    asio::io_context client;
    asio::ssl::context context(asio::ssl::context::tls_client);
    auto roots = mesh_->issue(kGatewayId).rootsPem;
    context.add_certificate_authority(asio::buffer(roots));
    context.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<tcp::socket> stream(client, context);
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
    if (!sni.empty()) SSL_set_tlsext_host_name(stream.native_handle(), sni.c_str());
    TlsAnswer answer;
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::client, ec);
    if (ec) return answer;
    answer.handshook = true;
    for (const auto& uri : tls::uriSans(SSL_get0_peer_certificate(stream.native_handle()))) answer.peer = uri;
    asio::write(stream, asio::buffer(std::string("hello")), ec);
    asio::read(stream, asio::dynamic_buffer(answer.body), ec);  // to the backend's close_notify
    return answer;
  }

  // A TLS client on OpenSSL's own socket I/O (so its close_notify goes out at once):
  // `send`, then the end of its sending (a close_notify, or with `bareClose` a TCP
  // half-close without one, as many clients end), then everything until the gateway's
  // close_notify; it offers ALPN h2 and http/1.1.
  struct RelayedTls {
    bool handshook = false;
    std::string body, peer, alpn;
    bool closeNotify = false;  // the answer ended with the gateway's close_notify
  };
  RelayedTls tlsRelayClient(const std::string& sni, const std::string& send, bool bareClose = false) {
    asio::io_context client;
    asio::ssl::context context(asio::ssl::context::tls_client);
    auto roots = mesh_->issue(kGatewayId).rootsPem;
    context.add_certificate_authority(asio::buffer(roots));
    context.set_verify_mode(asio::ssl::verify_peer);
    tcp::socket socket(client);
    socket.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.native_handle()), SSL_free);
    SSL_set_fd(ssl.get(), socket.native_handle());
    SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
    static const unsigned char kOffer[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(ssl.get(), kOffer, sizeof(kOffer));
    RelayedTls answer;
    if (SSL_connect(ssl.get()) != 1) return answer;
    answer.handshook = true;
    for (const auto& uri : tls::uriSans(SSL_get0_peer_certificate(ssl.get()))) answer.peer = uri;
    const unsigned char* alpn = nullptr;
    unsigned alpnLength = 0;
    SSL_get0_alpn_selected(ssl.get(), &alpn, &alpnLength);
    answer.alpn.assign(reinterpret_cast<const char*>(alpn), alpnLength);
    if (SSL_write(ssl.get(), send.data(), static_cast<int>(send.size())) != static_cast<int>(send.size())) return answer;
    if (bareClose) {
      ::shutdown(socket.native_handle(), SHUT_WR);
    } else {
      SSL_shutdown(ssl.get());  // sends close_notify; reading goes on
    }
    char buffer[4096];
    while (true) {
      int n = SSL_read(ssl.get(), buffer, sizeof buffer);
      if (n <= 0) {
        answer.closeNotify = SSL_get_error(ssl.get(), n) == SSL_ERROR_ZERO_RETURN;
        break;
      }
      answer.body.append(buffer, static_cast<size_t>(n));
    }
    return answer;
  }

  // Plain bytes in, the client's side half-closed, everything that came back.
  std::string plainClient(const std::string& send) {
    asio::io_context client;
    tcp::socket socket(client);
    socket.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(send), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    std::string received;
    asio::read(socket, asio::dynamic_buffer(received), ec);
    return received;
  }

  std::string metrics() {
    return onIo([this] { return metrics_.prometheusText(); });
  }
  // Whether metric `name` for `service` with `flags` comes to `value` (a relay's end is
  // counted once both sides are closed, a moment after the client has its answer).
  bool reaches(const std::string& name, const std::string& service, const std::string& flags, long long value) {
    return testing::eventually([&] { return metricValue(name, service, flags) == value; });
  }
  // The value of metric `name` for `service` with `flags`, or -1.
  long long metricValue(const std::string& name, const std::string& service, const std::string& flags) {
    std::string text = metrics();
    size_t at = 0;
    while ((at = text.find(name + "{", at)) != std::string::npos) {
      size_t end = text.find('\n', at);
      std::string line = text.substr(at, end - at);
      at = end;
      if (line.find("destination_service=\"" + service + "\"") == std::string::npos) continue;
      if (line.find("response_flags=\"" + flags + "\"") == std::string::npos) continue;
      return std::stoll(line.substr(line.rfind(' ') + 1));
    }
    return -1;
  }

  static TestMesh* mesh_;
  std::optional<std::string> relayTerminatedTo_;  // set: start()'s terminating server is a TLS (not HTTPS) one
  Backends backends_{mesh_->issue(kBackendId)};
  uint16_t gatewayPort_ = 0;
  asio::io_context io_;
  testing::StandInZtunnel ztunnel_{io_};
  RequestMetrics metrics_{SourceWorkload{"gw", "istio-system", "gw"}};
  GatewayServer server_{io_, metrics_, testOptions(ztunnel_.port())};
  std::thread thread_;
};

TestMesh* GatewayTcpTest::mesh_ = nullptr;

TEST_F(GatewayTcpTest, PassthroughRoutesByServerNameAndTheClientsTlsReachesTheBackendUntouched) {
  start(weft::v1::Listener::TLS, {{"exact", {"a.example.com"}, {backends_.tlsEndpoint()}},
                                  {"wildcard", {"*.example.com"}, {"127.0.0.1:1"}}});
  auto answer = tlsClient("A.Example.com");
  ASSERT_TRUE(answer.handshook);
  // The certificate is the backend's: the gateway holds none for this port.
  EXPECT_EQ(answer.peer, kBackendId);
  EXPECT_EQ(answer.body, "sni=A.Example.com got=hello");
  EXPECT_EQ(metricValue("istio_tcp_connections_opened_total", "exact.default.svc.cluster.local", "-"), 1);
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "exact.default.svc.cluster.local", "-", 1)) << metrics();
  EXPECT_GT(metricValue("istio_tcp_received_bytes_total", "exact.default.svc.cluster.local", "-"), 200) << "a ClientHello at least";
  EXPECT_GT(metricValue("istio_tcp_sent_bytes_total", "exact.default.svc.cluster.local", "-"), 200) << "a certificate at least";
  EXPECT_NE(metrics().find("request_protocol=\"tcp\""), std::string::npos);

  // b.example.com takes the wildcard route, whose endpoint refuses: closed, counted UF.
  EXPECT_FALSE(tlsClient("b.example.com").handshook);
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "wildcard.default.svc.cluster.local", "UF", 1)) << metrics();
  EXPECT_EQ(onIo([this] { return server_.passthroughRefused(); }), 0u);
}

TEST_F(GatewayTcpTest, NoRouteForTheNameNotTlsAndSilentClientsAreClosedAndCounted) {
  start(weft::v1::Listener::TLS, {{"exact", {"a.example.com"}, {backends_.tlsEndpoint()}},
                                  {"empty", {"empty.example.com"}, {}}});
  EXPECT_FALSE(tlsClient("other.org").handshook);
  EXPECT_FALSE(tlsClient("").handshook) << "no server name, no \"*\" route";
  EXPECT_EQ(plainClient("GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n"), "") << "plain HTTP on a passthrough port";
  {
    // Connected, silent: closed at the header timeout (300 ms here).
    asio::io_context client;
    tcp::socket socket(client);
    socket.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
    char byte;
    boost::system::error_code ec;
    socket.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::eof);
  }
  EXPECT_EQ(onIo([this] { return server_.passthroughRefused(); }), 4u);
  // A route whose cluster has no endpoint: closed, counted UH.
  EXPECT_FALSE(tlsClient("empty.example.com").handshook);
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "empty.default.svc.cluster.local", "UH", 1)) << metrics();
  // And the named one still works after all that.
  EXPECT_EQ(tlsClient("a.example.com").body, "sni=a.example.com got=hello");
}

TEST_F(GatewayTcpTest, ATcpRouteRelaysBothWaysAndPassesTheHalfCloseOn) {
  start(weft::v1::Listener::TCP, {{"echo", {}, {backends_.echoEndpoint()}}});
  // The backend answers only after its read ended: the client's half-close went through.
  EXPECT_EQ(plainClient("ping"), "echo:ping");
  std::string big(300 * 1024, 'x');
  EXPECT_EQ(plainClient(big), "echo:" + big);
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "echo.default.svc.cluster.local", "-", 2)) << metrics();
  EXPECT_TRUE(reaches("istio_tcp_received_bytes_total", "echo.default.svc.cluster.local", "-", static_cast<long long>(4 + big.size()))) << metrics();
  EXPECT_TRUE(reaches("istio_tcp_sent_bytes_total", "echo.default.svc.cluster.local", "-", static_cast<long long>(9 + 5 + big.size()))) << metrics();
}

// The gateway's own AuthorizationPolicies apply to relayed connections, with a connection's
// fields only: a DENY on an address block with an HTTP-only method left out denies.
TEST_F(GatewayTcpTest, TheGatewaysPoliciesDecideOnRelayedConnections) {
  weft::v1::HttpAuthorization deny;
  deny.set_name("no-loopback");
  deny.set_namespace_("istio-system");
  deny.set_action(weft::v1::Authorization::DENY);
  deny.set_scope(weft::v1::Authorization::NAMESPACE);
  auto* rule = deny.add_rules();
  rule->add_from()->add_ip_blocks("127.0.0.0/8");
  rule->add_to()->add_methods()->set_value("POST");
  start(weft::v1::Listener::TCP, {{"echo", {}, {backends_.echoEndpoint()}}}, {}, {deny});
  EXPECT_EQ(plainClient("ping"), "") << "closed before any upstream";
  // Counted and logged against the Service it was for, with no byte relayed.
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "echo.default.svc.cluster.local", "-", 1)) << metrics();
  EXPECT_EQ(metricValue("istio_tcp_connections_opened_total", "echo.default.svc.cluster.local", "-"), 1);
  EXPECT_EQ(metricValue("istio_tcp_received_bytes_total", "echo.default.svc.cluster.local", "-"), 0);
}

// A long connection's bytes reach the metrics while it lasts (every report interval, here
// 50 ms), and the rest when it ends, each byte counted once.
TEST_F(GatewayTcpTest, BytesAreReportedWhileTheConnectionLasts) {
  start(weft::v1::Listener::TCP, {{"echo", {}, {backends_.echoEndpoint()}}});
  asio::io_context client;
  tcp::socket socket(client);
  socket.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
  asio::write(socket, asio::buffer(std::string(1000, 'a')));
  EXPECT_TRUE(reaches("istio_tcp_received_bytes_total", "echo.default.svc.cluster.local", "-", 1000)) << "before the connection ends: " << metrics();
  EXPECT_EQ(metricValue("istio_tcp_connections_closed_total", "echo.default.svc.cluster.local", "-"), 0);
  asio::write(socket, asio::buffer(std::string(500, 'b')));
  EXPECT_TRUE(reaches("istio_tcp_received_bytes_total", "echo.default.svc.cluster.local", "-", 1500)) << metrics();
  socket.shutdown(tcp::socket::shutdown_send);
  std::string answer;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(answer), ec);
  EXPECT_EQ(answer.size(), 5u + 1500u);
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "echo.default.svc.cluster.local", "-", 1)) << metrics();
  EXPECT_EQ(metricValue("istio_tcp_received_bytes_total", "echo.default.svc.cluster.local", "-"), 1500);
  EXPECT_EQ(metricValue("istio_tcp_sent_bytes_total", "echo.default.svc.cluster.local", "-"), 1505);
}

TEST_F(GatewayTcpTest, AMeshEndpointIsReachedOverHboneWithTheGatewaysIdentity) {
  ASSERT_TRUE(server_.setTunnelCredentials(mesh_->issue(kGatewayId), kGatewayId));
  start(weft::v1::Listener::TLS, {{"mesh", {"mesh.example.com"}, {backends_.tlsEndpoint()}, "spiffe://cluster.local/ns/default/sa/ztunnel-of-backend"}});
  auto answer = tlsClient("mesh.example.com");
  ASSERT_TRUE(answer.handshook);
  EXPECT_EQ(answer.peer, kBackendId) << "the client's TLS runs inside the tunnel, end to end";
  EXPECT_EQ(answer.body, "sni=mesh.example.com got=hello");
  auto seen = onIo([this] { return ztunnel_.seen(); });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, kGatewayId);
  EXPECT_EQ(seen[0].second, backends_.tlsEndpoint());
}

TEST_F(GatewayTcpTest, WithoutItsCertificateTheGatewaySendsNothingToAMeshEndpoint) {
  start(weft::v1::Listener::TCP, {{"mesh", {}, {backends_.echoEndpoint()}, "spiffe://cluster.local/ns/default/sa/ztunnel-of-backend"}});
  EXPECT_EQ(plainClient("ping"), "");
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "mesh.default.svc.cluster.local", "UF", 1)) << metrics();
  EXPECT_TRUE(onIo([this] { return ztunnel_.seen(); }).empty());
}

TEST_F(GatewayTcpTest, OnAPortSharedWithATerminatingServerTheMoreSpecificNameWins) {
  // Envoy picks the filter chain with the most specific server name: the terminating
  // server's exact name beats the passthrough wildcard, and the other way round.
  start(weft::v1::Listener::HTTPS,
        {{"pass-wild", {"*.example.com"}, {backends_.tlsEndpoint()}}, {"pass-exact", {"exact.other.org"}, {backends_.tlsEndpoint()}}},
        {"secure.example.com", "*.other.org"});
  EXPECT_EQ(tlsClient("secure.example.com").peer, kTerminatorId) << "terminated by the gateway";
  EXPECT_EQ(tlsClient("x.example.com").peer, kBackendId) << "passed through";
  EXPECT_EQ(tlsClient("exact.other.org").peer, kBackendId) << "the exact passthrough name beats the server's wildcard";
  EXPECT_EQ(tlsClient("y.other.org").peer, kTerminatorId);
  EXPECT_EQ(tlsClient("").peer, kTerminatorId) << "no name: the first terminating server, as before";
}

// Istio's Gateway server with protocol TLS and tls mode SIMPLE: the gateway terminates the
// TLS (its own certificate, no ALPN), and the bytes inside go on as TCP by the tcp[] route.
TEST_F(GatewayTcpTest, ATerminatedTlsServerRelaysWhatIsInsideAsTcp) {
  relayTerminatedTo_ = backends_.echoEndpoint();
  start(weft::v1::Listener::HTTPS, {}, {"db.example.com"});
  RelayedTls answer = tlsRelayClient("db.example.com", "select 1");
  ASSERT_TRUE(answer.handshook);
  EXPECT_EQ(answer.peer, kTerminatorId) << "the gateway's certificate";
  EXPECT_EQ(answer.alpn, "") << "no ALPN: the bytes inside are not HTTP to the gateway";
  // The echo backend answers only after its read ended: the close_notify became a half-close.
  EXPECT_EQ(answer.body, "echo:select 1");
  EXPECT_TRUE(answer.closeNotify) << "the backend's close became a close_notify";

  RelayedTls bare = tlsRelayClient("db.example.com", std::string(200 * 1024, 'y'), true);
  EXPECT_EQ(bare.body, "echo:" + std::string(200 * 1024, 'y')) << "a TCP close without close_notify ends the client's sending too";
  EXPECT_TRUE(bare.closeNotify);
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "terminated.default.svc.cluster.local", "-", 2)) << metrics();
  EXPECT_TRUE(reaches("istio_tcp_received_bytes_total", "terminated.default.svc.cluster.local", "-", 8 + 200 * 1024)) << metrics();
}

TEST_F(GatewayTcpTest, StopEndsARelayWhoseBackendIgnoresTheHalfClose) {
  SilentBackend silent;
  start(weft::v1::Listener::TCP, {{"silent", {}, {silent.endpoint()}}});
  asio::io_context client;
  tcp::socket socket(client);
  socket.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
  asio::write(socket, asio::buffer(std::string("anyone there?")));
  ASSERT_TRUE(testing::eventually([&] { return metricValue("istio_tcp_connections_opened_total", "silent.default.svc.cluster.local", "-") == 1; }));
  onIo([this] {
    server_.stop();
    return 0;
  });
  // Both sides shut down: the relay ends (and is counted) though the backend never closed.
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "silent.default.svc.cluster.local", "-", 1)) << metrics();
  char byte;
  boost::system::error_code ec;
  socket.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST_F(GatewayTcpTest, AnIdleRelayIsEndedAndMaxConnectionsOverflowsWithUO) {
  SilentBackend silent;
  weft::v1::ConnectionPool pool;
  pool.set_tcp_idle_timeout_ms(200);
  pool.set_max_connections(1);
  start(weft::v1::Listener::TCP, {{"silent", {}, {silent.endpoint()}, "", pool}});
  asio::io_context client;
  tcp::socket first(client);
  first.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
  asio::write(first, asio::buffer(std::string("then nothing")));
  ASSERT_TRUE(testing::eventually([&] { return metricValue("istio_tcp_connections_opened_total", "silent.default.svc.cluster.local", "-") == 1; }));
  // The cluster's one connection is taken: the next is closed at once, flagged UO.
  tcp::socket second(client);
  second.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
  char byte;
  boost::system::error_code ec;
  second.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "silent.default.svc.cluster.local", "UO", 1)) << metrics();
  // Nothing moves either way: 200 ms later the first relay is ended, both sides shut down.
  first.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "silent.default.svc.cluster.local", "-", 1)) << metrics();
  EXPECT_TRUE(reaches("istio_tcp_received_bytes_total", "silent.default.svc.cluster.local", "-", 12)) << metrics();
  // Its slot is free again.
  tcp::socket third(client);
  third.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
  EXPECT_TRUE(testing::eventually([&] { return metricValue("istio_tcp_connections_opened_total", "silent.default.svc.cluster.local", "-") == 2; }));
}

// connectionPool.tcp.maxConnectionDuration ends a relay that is not idle (the idle
// timeout is the default hour) once it has lasted that long, flagged DT.
TEST_F(GatewayTcpTest, ARelayEndsAtMaxConnectionDuration) {
  SilentBackend silent;
  weft::v1::ConnectionPool pool;
  pool.set_max_connection_duration_ms(300);
  start(weft::v1::Listener::TCP, {{"silent", {}, {silent.endpoint()}, "", pool}});
  asio::io_context client;
  tcp::socket socket(client);
  socket.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
  asio::write(socket, asio::buffer(std::string("still here")));
  char byte;
  boost::system::error_code ec;
  socket.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_TRUE(reaches("istio_tcp_connections_closed_total", "silent.default.svc.cluster.local", "DT", 1)) << metrics();
  // The bytes are counted once, under the flags of the report that carried them (reports
  // while it lasted say "-").
  long long early = std::max(0LL, metricValue("istio_tcp_received_bytes_total", "silent.default.svc.cluster.local", "-"));
  long long last = std::max(0LL, metricValue("istio_tcp_received_bytes_total", "silent.default.svc.cluster.local", "DT"));
  EXPECT_EQ(early + last, 10) << metrics();
}

}  // namespace
}  // namespace weft::proxy
