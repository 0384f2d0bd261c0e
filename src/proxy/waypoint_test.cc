// The waypoint's data path in one process, with real parts on loopback: a client HBONE
// pool (src/hbone, OpenSSL, the client's SPIFFE certificate) opens a CONNECT to the
// waypoint listener with a Service VIP as authority and speaks HTTP/1.1 through it; the
// waypoint routes with a compiled ProxyConfig to two real HTTP backends on 127.0.0.1, and
// an h2c backend (nghttp2, the gateway's own HTTP/2 server side) for HTTP/2 clusters.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "hbone/hbone_client.h"
#include "hbone/test_support.h"
#include "proxy/gateway_server.h"
#include "proxy/jwt_test_support.h"
#include "proxy/ztunnel_stand_in.h"
#include "proxy/h2_downstream.h"
#include "proxy/waypoint_listener.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using hbone::testing::TestMesh;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

const std::string kWaypointId = "spiffe://cluster.local/ns/shop/sa/waypoint";
const std::string kClientId = "spiffe://cluster.local/ns/front/sa/curl";
const std::string kBackendId = "spiffe://cluster.local/ns/shop/sa/hb";
const std::string kVip = "198.19.0.10:8000";  // only ever an authority: nothing dials it

// An HTTP/1.1 backend answering every request with its own name and the request's
// x-forwarded-for, keeping the connection open.
asio::awaitable<void> backendSession(tcp::socket socket, std::string name) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    http::request<http::string_body> request;
    auto [readError, n] = co_await http::async_read(stream, buffer, request, kUseTuple);
    if (readError) co_return;
    http::response<http::string_body> response{http::status::ok, 11};
    response.set("x-seen-forwarded-for", request["x-forwarded-for"]);
    response.body() = name;
    response.prepare_payload();
    auto [writeError, m] = co_await http::async_write(stream, response, kUseTuple);
    if (writeError) co_return;
  }
}

asio::awaitable<void> backendLoop(std::shared_ptr<tcp::acceptor> acceptor, std::string name) {
  while (true) {
    auto [ec, socket] = co_await acceptor->async_accept(kUseTuple);
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(), backendSession(std::move(socket), name), asio::detached);
  }
}

// An h2c-only backend: HTTP/1.1 bytes end its session, so an answer proves HTTP/2 arrived.
asio::awaitable<H2Answer> answerInHttp2(H2Request request, std::shared_ptr<StreamedBody>) {
  H2Answer answer;
  answer.response.result(http::status::ok);
  answer.response.set("x-seen-forwarded-for", request["x-forwarded-for"]);
  answer.response.body() = request.version() == kHttp2Version ? "h2" : "not h2";
  answer.response.prepare_payload();
  co_return answer;
}

asio::awaitable<void> h2BackendSession(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  H2DownstreamCounters counters;
  co_await serveHttp2(stream, buffer, H2Responder(&answerInHttp2), H2DownstreamOptions{}, counters);
}

asio::awaitable<void> h2BackendLoop(std::shared_ptr<tcp::acceptor> acceptor) {
  while (true) {
    auto [ec, socket] = co_await acceptor->async_accept(kUseTuple);
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(), h2BackendSession(std::move(socket)), asio::detached);
  }
}

class WaypointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mesh_ = new TestMesh(); }
  static void TearDownTestSuite() { delete mesh_; }

  void SetUp() override {
    for (const char* name : {"v1", "v2", "h2"}) {
      auto acceptor = std::make_shared<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      backends_[name] = acceptor;
      if (name == std::string("h2")) {
        asio::co_spawn(io_, h2BackendLoop(acceptor), asio::detached);
      } else {
        asio::co_spawn(io_, backendLoop(acceptor, name), asio::detached);
      }
    }
    ASSERT_TRUE(listener_.bind(0));
    ASSERT_TRUE(listener_.setCredentials(mesh_->issue(kWaypointId), "cluster.local"));
    clientTls_ = hbone::makeClientTlsContext(mesh_->issue(kClientId)).value();
  }

  void TearDown() override {
    ztunnel_.close();
    listener_.stop();
    server_.stop();
    pool_.closeAll();
    for (auto& [name, acceptor] : backends_) acceptor->close();
    hbone::testing::drain(io_);
  }

  std::string endpointOf(const std::string& name) {
    return fmt::format("127.0.0.1:{}", backends_.at(name)->local_endpoint().port());
  }

  // What weftd's waypoint view sends for Service hb.shop (port 8000) with subsets v1 and v2:
  // x-version: v2 goes to v2, the rest to v1; `policies` are added; v1's endpoint is in the
  // mesh as `v1Identity` when given; `v1Http2`: v1's cluster speaks HTTP/2 and its endpoint
  // is the h2c backend.
  void configure(std::vector<weft::v1::HttpAuthorization> policies = {}, std::string v1Identity = "", bool v1Http2 = false) {
    xds::HeldResources held;
    const std::string name = "shop/waypoint/hb.shop.svc.cluster.local:8000";
    auto& l = held[kListenerType][name];
    l.set_name(name);
    auto* listener = l.mutable_listener();
    listener->set_name(name);
    listener->set_port(8000);
    listener->set_route_config_name(name);
    listener->set_gateway("shop/waypoint");
    listener->set_waypoint_service("hb.shop.svc.cluster.local");
    listener->add_waypoint_authorities(kVip);
    (*listener->mutable_selector())["gateway.networking.k8s.io/gateway-name"] = "waypoint";
    auto& r = held[kRouteConfigurationType][name];
    r.set_name(name);
    auto* vhost = r.mutable_route_configuration()->add_virtual_hosts();
    vhost->set_name("hb.shop.svc.cluster.local:8000");
    vhost->add_domains("*");
    auto* canary = vhost->add_routes();
    canary->set_name("shop/hb/canary");
    auto* header = canary->mutable_match()->add_headers();
    header->set_name("x-version");
    header->mutable_match()->set_exact("v2");
    auto* toV2 = canary->mutable_route()->add_clusters();
    toV2->set_cluster("outbound|8000|v2|hb.shop.svc.cluster.local");
    toV2->set_weight(1);
    auto* rest = vhost->add_routes();
    rest->set_name("shop/hb/rest");
    auto* toV1 = rest->mutable_route()->add_clusters();
    toV1->set_cluster("outbound|8000|v1|hb.shop.svc.cluster.local");
    toV1->set_weight(1);
    for (const char* subset : {"v1", "v2"}) {
      std::string clusterName = fmt::format("outbound|8000|{}|hb.shop.svc.cluster.local", subset);
      auto& c = held[kClusterType][clusterName];
      c.set_name(clusterName);
      c.mutable_cluster()->set_name(clusterName);
      c.mutable_cluster()->set_service_hostname("hb.shop.svc.cluster.local");
      c.mutable_cluster()->set_service_namespace("shop");
      bool isV1 = subset == std::string("v1");
      std::string endpoint = endpointOf(isV1 && v1Http2 ? "h2" : subset);
      c.mutable_cluster()->add_endpoints(endpoint);
      if (isV1 && !v1Identity.empty()) (*c.mutable_cluster()->mutable_hbone_identities())[endpoint] = v1Identity;
      if (isV1 && v1Http2) c.mutable_cluster()->mutable_connection_pool()->set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
    }
    for (auto& p : policies) {
      auto& resource = held[kHttpAuthorizationType][p.namespace_() + "/" + p.name()];
      *resource.mutable_http_authorization() = std::move(p);
    }
    for (const auto& a : authentications_) *held[kJwtAuthenticationType][a.namespace_() + "/" + a.name()].mutable_jwt_authentication() = a;
    auto config = ProxyConfig::build(held, {{"gateway.networking.k8s.io/gateway-name", "waypoint"}}, nullptr, "shop");
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_EQ((*config)->waypointTargetCount(), 1u);
    server_.setConfig(*config);
  }

  hbone::ConnectTarget target(std::string authority = kVip) {
    hbone::ConnectTarget t;
    t.sourceIdentity = kClientId;
    t.destinationIdentity = kWaypointId;
    t.destinationIp = asio::ip::make_address("127.0.0.1");
    t.peer = tcp::endpoint(t.destinationIp, listener_.port());
    t.authority = std::move(authority);
    t.tls = clientTls_;
    t.expectedServerIds = {kWaypointId};
    return t;
  }

  struct Answer {
    int connectStatus = 0;
    unsigned status = 0;
    std::string body;
    std::string forwardedFor;
  };

  // One request through a fresh tunnel, the way a client's ztunnel carries a connection.
  asio::awaitable<Answer> ask(std::map<std::string, std::string> headers, std::string authority = kVip) {
    Answer answer;
    auto connectTarget = target(std::move(authority));
    auto stream = co_await pool_.connect(std::move(connectTarget));
    answer.connectStatus = stream.status();
    if (!stream) co_return answer;
    auto named = std::move(headers);
    answer = co_await exchange(**stream, std::move(named));
    answer.connectStatus = stream.status();
    co_return answer;
  }

  // Sends one request with `headers` on an open tunnel and parses the answer.
  asio::awaitable<Answer> exchange(hbone::HboneStream& stream, std::map<std::string, std::string> headers) {
    Answer answer;
    std::string request = "GET /headers HTTP/1.1\r\nHost: hb.shop:8000\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
    request += "\r\n";
    auto written = co_await stream.write(std::move(request));
    if (!written) co_return answer;
    std::string raw;
    while (true) {
      auto chunk = co_await stream.read();
      if (!chunk || chunk->empty()) break;
      raw += *chunk;
    }
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    beast::error_code ec;
    for (size_t offset = 0; !parser.is_done() && offset < raw.size();) {
      size_t used = parser.put(asio::buffer(raw.data() + offset, raw.size() - offset), ec);
      if (ec || used == 0) break;
      offset += used;
    }
    if (ec || !parser.is_done()) {
      ADD_FAILURE() << "not one HTTP response: " << raw;
      co_return answer;
    }
    answer.status = parser.get().result_int();
    answer.body = parser.get().body();
    answer.forwardedFor = std::string(parser.get()["x-seen-forwarded-for"]);
    co_return answer;
  }

  Answer run(std::map<std::string, std::string> headers, std::string authority = kVip) {
    Answer answer;
    hbone::testing::runCoroutine(io_, [&]() -> asio::awaitable<void> {
      auto named = std::move(headers);  // named locals into co_await'ed calls: see the GCC 12 note in gateway_server.cc
      auto to = std::move(authority);
      answer = co_await ask(std::move(named), std::move(to));
    });
    return answer;
  }

  // The endpoints' ztunnel: an HBONE server (src/hbone) with hb's certificate that records
  // who connected where and relays to the CONNECT's target, as a pod's ztunnel does.
  void startEndpointZtunnel() {
    ztunnel_.start(hbone::makeServerTlsContext(mesh_->issue(kBackendId)).value());
  }

  static ServerOptions optionsWithHbonePort(uint16_t port) {
    ServerOptions options;
    options.hboneServerPort = port;
    return options;
  }

  std::vector<weft::v1::JwtAuthentication> authentications_;  // configure() adds them
  static TestMesh* mesh_;
  asio::io_context io_;
  testing::StandInZtunnel ztunnel_{io_};
  RequestMetrics metrics_{SourceWorkload{"waypoint", "shop", "waypoint", "unknown", "unknown", "Kubernetes", "waypoint"}};
  GatewayServer server_{io_, metrics_, optionsWithHbonePort(ztunnel_.port())};
  WaypointListener listener_{io_, server_};
  std::map<std::string, std::shared_ptr<tcp::acceptor>> backends_;
  std::shared_ptr<asio::ssl::context> clientTls_;
  hbone::HboneCounters clientCounters_;
  hbone::HbonePool pool_{io_.get_executor(), hbone::PoolOptions{}, clientCounters_};
};

TestMesh* WaypointTest::mesh_ = nullptr;

TEST_F(WaypointTest, RoutesTheTunnelsRequestsByTheServiceItsAuthorityNames) {
  configure();
  Answer plain = run({});
  EXPECT_EQ(plain.connectStatus, 200);
  EXPECT_EQ(plain.status, 200u);
  EXPECT_EQ(plain.body, "v1");
  EXPECT_EQ(plain.forwardedFor, "127.0.0.1");  // the HBONE client's address
  Answer canary = run({{"x-version", "v2"}});
  EXPECT_EQ(canary.status, 200u);
  EXPECT_EQ(canary.body, "v2");
}

// What a draining waypoint does (gateway.cc stops its listener on SIGTERM): no new HBONE
// connection, and a GOAWAY on the open ones, whose tunnels carry on while the clients'
// ztunnels open their next tunnels elsewhere (here: nowhere, so the next one fails).
TEST_F(WaypointTest, ADrainingListenerLetsOpenTunnelsFinishAndSendsTheNextOnesElsewhere) {
  configure();
  uint16_t port = listener_.port();
  ASSERT_EQ(run({}).status, 200u);  // the client's pool keeps this HBONE connection
  Answer inFlight, next;
  hbone::testing::runCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto to = target();  // named locals into co_await'ed calls (GCC 12)
    auto opened = co_await pool_.connect(std::move(to));
    EXPECT_EQ(opened.status(), 200);
    if (!opened) co_return;
    listener_.stop();
    // The GOAWAY goes out before the answer on the same connection, so once the answer is
    // here the client has seen it.
    std::map<std::string, std::string> headers;
    inFlight = co_await exchange(**opened, std::move(headers));
    std::map<std::string, std::string> none;
    next = co_await ask(std::move(none));
  });
  EXPECT_EQ(inFlight.status, 200u) << "a tunnel open before the drain is still served";
  EXPECT_NE(next.connectStatus, 200) << "the next tunnel went to the draining connection";
  EXPECT_EQ(next.status, 0u);
  asio::io_context elsewhere;
  tcp::socket probe(elsewhere);
  beast::error_code refused;
  probe.connect({asio::ip::make_address("127.0.0.1"), port}, refused);
  EXPECT_EQ(refused, asio::error::connection_refused);
  // With no stream left, the waypoint ends the connection after its final GOAWAY.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (listener_.counters().connectionsClosed.load() < 1 && std::chrono::steady_clock::now() < until)
    io_.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(listener_.counters().connectionsClosed.load(), 1u);
}

TEST_F(WaypointTest, RefusesACONNECTForAServiceItDoesNotServe) {
  configure();
  Answer other = run({}, "198.19.0.99:8000");
  EXPECT_EQ(other.connectStatus, 503);
  EXPECT_EQ(other.status, 0u);
}

TEST_F(WaypointTest, TheMetricsNameTheClientFromItsHbonePeerCertificate) {
  configure();
  ASSERT_EQ(run({}).status, 200u);
  std::string text = metrics_.prometheusText();
  EXPECT_NE(text.find("reporter=\"waypoint\",source_workload=\"unknown\",source_workload_namespace=\"front\",source_principal=\"" + kClientId + "\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("destination_service=\"hb.shop.svc.cluster.local\""), std::string::npos);
}

weft::v1::HttpAuthorization policy(const std::string& name, weft::v1::Authorization::Action action) {
  weft::v1::HttpAuthorization p;
  p.set_name(name);
  p.set_namespace_("shop");
  p.set_action(action);
  p.set_scope(weft::v1::Authorization::NAMESPACE);
  return p;
}

TEST_F(WaypointTest, OnlyPoliciesTargetingTheServiceOrTheWaypointApply) {
  // A DENY on x-version: v2 attached to the Service; a namespace-wide DENY of everything
  // without targetRefs (ztunnel's business, never the waypoint's); an ALLOW attached to
  // another Service.
  auto deny = policy("deny-canary", weft::v1::Authorization::DENY);
  deny.add_target_services("hb.shop.svc.cluster.local");
  auto* when = deny.add_rules()->add_when();
  when->set_key("request.headers[x-version]");
  when->add_values()->set_value("v2");
  auto everything = policy("deny-all", weft::v1::Authorization::DENY);
  everything.add_rules();
  auto elsewhere = policy("allow-nothing-elsewhere", weft::v1::Authorization::ALLOW);
  elsewhere.add_target_services("other.shop.svc.cluster.local");
  configure({deny, everything, elsewhere});

  EXPECT_EQ(run({}).status, 200u);
  Answer denied = run({{"x-version", "v2"}});
  EXPECT_EQ(denied.status, 403u);
  EXPECT_EQ(denied.body, "RBAC: access denied");
}

TEST_F(WaypointTest, PrincipalsComeFromTheHbonePeerCertificate) {
  auto allow = policy("allow-curl", weft::v1::Authorization::ALLOW);
  allow.add_target_gateways("shop/waypoint");
  allow.add_rules()->add_from()->add_principals()->set_value("cluster.local/ns/front/sa/curl");
  configure({allow});
  EXPECT_EQ(run({}).status, 200u);

  auto other = policy("allow-someone-else", weft::v1::Authorization::ALLOW);
  other.add_target_gateways("shop/waypoint");
  other.add_rules()->add_from()->add_principals()->set_value("cluster.local/ns/front/sa/someone-else");
  configure({other});
  EXPECT_EQ(run({}).status, 403u);
}

TEST_F(WaypointTest, MeshEndpointsAreReachedOverHboneWithTheWaypointsIdentity) {
  startEndpointZtunnel();
  ASSERT_TRUE(server_.setTunnelCredentials(mesh_->issue(kWaypointId), kWaypointId));
  configure({}, kBackendId);
  for (int i = 0; i < 3; ++i) {
    Answer answer = run({});
    EXPECT_EQ(answer.status, 200u);
    EXPECT_EQ(answer.body, "v1");
  }
  // One tunnel, reused by the pooled upstream connection; the endpoint's ztunnel saw the
  // waypoint's certificate and the endpoint itself as the CONNECT target.
  ASSERT_EQ(ztunnel_.seen().size(), 1u);
  EXPECT_EQ(ztunnel_.seen()[0].first, kWaypointId);
  EXPECT_EQ(ztunnel_.seen()[0].second, endpointOf("v1"));
  // v2 is not in the mesh: plain TCP, no tunnel.
  EXPECT_EQ(run({{"x-version", "v2"}}).body, "v2");
  EXPECT_EQ(ztunnel_.seen().size(), 1u);
}

TEST_F(WaypointTest, AnEndpointPresentingAnotherIdentityIsNotSentTheRequest) {
  startEndpointZtunnel();
  ASSERT_TRUE(server_.setTunnelCredentials(mesh_->issue(kWaypointId), kWaypointId));
  configure({}, "spiffe://cluster.local/ns/shop/sa/someone-else");
  Answer answer = run({});
  EXPECT_EQ(answer.status, 503u);
  EXPECT_EQ(answer.body, "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
  EXPECT_TRUE(ztunnel_.seen().empty());
}

TEST_F(WaypointTest, WithoutItsCertificateNothingGoesToMeshEndpoints) {
  // No setTunnelCredentials yet: plaintext would skip the endpoint's mTLS, so 503 UF; an
  // endpoint outside the mesh is still reached.
  startEndpointZtunnel();
  configure({}, kBackendId);
  Answer answer = run({});
  EXPECT_EQ(answer.status, 503u);
  EXPECT_EQ(answer.body, "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
  EXPECT_TRUE(ztunnel_.seen().empty());
  EXPECT_EQ(run({{"x-version", "v2"}}).body, "v2");
}

TEST_F(WaypointTest, AnHttp2ClustersMeshEndpointGetsH2cInsideHbone) {
  startEndpointZtunnel();
  ASSERT_TRUE(server_.setTunnelCredentials(mesh_->issue(kWaypointId), kWaypointId));
  configure({}, kBackendId, /*v1Http2=*/true);
  for (int i = 0; i < 3; ++i) {
    Answer answer = run({});
    EXPECT_EQ(answer.status, 200u);
    EXPECT_EQ(answer.body, "h2");
    EXPECT_EQ(answer.forwardedFor, "127.0.0.1");
  }
  // One HTTP/2 connection carried the three requests, inside one tunnel whose far end saw
  // the waypoint's certificate and the h2c endpoint as the CONNECT target.
  ASSERT_EQ(ztunnel_.seen().size(), 1u);
  EXPECT_EQ(ztunnel_.seen()[0].first, kWaypointId);
  EXPECT_EQ(ztunnel_.seen()[0].second, endpointOf("h2"));
}

TEST_F(WaypointTest, AnHttp2MeshEndpointPresentingAnotherIdentityIsNotSentTheRequest) {
  startEndpointZtunnel();
  ASSERT_TRUE(server_.setTunnelCredentials(mesh_->issue(kWaypointId), kWaypointId));
  configure({}, "spiffe://cluster.local/ns/shop/sa/someone-else", /*v1Http2=*/true);
  Answer answer = run({});
  EXPECT_EQ(answer.status, 503u);
  EXPECT_EQ(answer.body, "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
  EXPECT_TRUE(ztunnel_.seen().empty());
  EXPECT_NE(metrics_.prometheusText().find("response_code=\"503\",grpc_response_status=\"\",response_flags=\"UF\""), std::string::npos);
}

TEST_F(WaypointTest, WithoutItsCertificateNoHttp2GoesToMeshEndpoints) {
  // The h2c endpoint would answer plaintext; it must not get any.
  startEndpointZtunnel();
  configure({}, kBackendId, /*v1Http2=*/true);
  Answer answer = run({});
  EXPECT_EQ(answer.status, 503u);
  EXPECT_EQ(answer.body, "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
  EXPECT_TRUE(ztunnel_.seen().empty());
}

// A RequestAuthentication attached to the Service by targetRefs checks tokens at its
// waypoint, as in Istio's ambient mode.
TEST_F(WaypointTest, ARequestAuthenticationOnTheServiceChecksTokensAtTheWaypoint) {
  testing::TestSigner signer = testing::TestSigner::rsa();
  weft::v1::JwtAuthentication authn;
  authn.set_name("jwt");
  authn.set_namespace_("shop");
  authn.set_scope(weft::v1::Authorization::NAMESPACE);
  authn.add_target_services("hb.shop.svc.cluster.local");
  auto* rule = authn.add_rules();
  rule->set_issuer("https://issuer.example");
  rule->set_jwks(signer.jwks("k"));
  authentications_.push_back(authn);
  configure();
  auto later = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() + 600;
  std::string claims = fmt::format(R"({{"iss":"https://issuer.example","sub":"alice","exp":{}}})", later);
  EXPECT_EQ(run({}).status, 200u) << "no token: nothing to refuse";
  Answer forged = run({{"Authorization", "Bearer " + testing::TestSigner::rsa().sign("RS256", claims, "k")}});
  EXPECT_EQ(forged.status, 401u);
  EXPECT_EQ(forged.body, "Jwt verification fails");
  EXPECT_EQ(run({{"Authorization", "Bearer " + signer.sign("RS256", claims, "k")}}).status, 200u);
}

}  // namespace
}  // namespace weft::proxy
