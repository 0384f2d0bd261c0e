// A waypoint's Service ports that are not HTTP, in one process with real parts on loopback:
// a client HBONE pool (OpenSSL, the client's SPIFFE certificate) opens CONNECTs to the
// waypoint listener with a Service VIP as authority, as a client's ztunnel does, and the
// waypoint relays the bytes by the port's TCP route to a line-echo backend on 127.0.0.1, or,
// for a port with no declared protocol, serves HTTP when the first bytes are HTTP.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "hbone/hbone_client.h"
#include "hbone/test_support.h"
#include "proxy/client_hello_test_support.h"
#include "proxy/gateway_server.h"
#include "proxy/waypoint_listener.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using hbone::testing::TestMesh;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

const std::string kWaypointId = "spiffe://cluster.local/ns/shop/sa/waypoint";
const std::string kClientId = "spiffe://cluster.local/ns/front/sa/curl";
const std::string kService = "store.shop.svc.cluster.local";
// Service store's ports, only ever authorities: nothing dials them.
const std::string kTcpPort = "198.19.0.20:5000";      // name: tcp
const std::string kUndeclared = "198.19.0.20:6000";   // name: data (no protocol)
const std::string kServerFirst = "198.19.0.20:7000";  // name: data2, a backend that speaks first

// A backend on loopback: greets with "ready\n" at once when `greets`; answers a connection
// that opens with "GET " as HTTP ("http" and close); otherwise prefixes every line with
// `name` and echoes it, until the client half-closes.
asio::awaitable<void> backendSession(tcp::socket socket, std::string name, bool greets) {
  if (greets) co_await asio::async_write(socket, asio::buffer(std::string("ready\n")), kUseTuple);
  std::string buffer;
  while (true) {
    auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), '\n', kUseTuple);
    if (buffer.starts_with("GET ")) {
      std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nhttp";
      co_await asio::async_write(socket, asio::buffer(answer), kUseTuple);
      co_return;
    }
    if (ec) break;
    std::string line = name + " " + buffer.substr(0, n);
    buffer.erase(0, n);
    auto [written, ignored] = co_await asio::async_write(socket, asio::buffer(line), kUseTuple);
    if (written) co_return;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> backendLoop(std::shared_ptr<tcp::acceptor> acceptor, std::string name, bool greets) {
  while (true) {
    auto [ec, socket] = co_await acceptor->async_accept(kUseTuple);
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(), backendSession(std::move(socket), name, greets), asio::detached);
  }
}

class WaypointTcpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mesh_ = new TestMesh(); }
  static void TearDownTestSuite() { delete mesh_; }

  void SetUp() override {
    for (auto [name, greets] : {std::pair{"one", false}, std::pair{"greeter", true}, std::pair{"two", false}}) {
      auto acceptor = std::make_shared<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      backends_[name] = acceptor;
      asio::co_spawn(io_, backendLoop(acceptor, name, greets), asio::detached);
    }
    ASSERT_TRUE(listener_.bind(0));
    ASSERT_TRUE(listener_.setCredentials(mesh_->issue(kWaypointId), "cluster.local"));
    clientTls_ = hbone::makeClientTlsContext(mesh_->issue(kClientId)).value();
  }

  void TearDown() override {
    listener_.stop();
    server_.stop();
    pool_.closeAll();
    for (auto& [name, acceptor] : backends_) acceptor->close();
    hbone::testing::drain(io_);
  }

  // What weftd's waypoint view sends for Service store (waypoint_view.cc): port 5000 (tcp)
  // relayed to backend "one"; 6000 (undeclared) served as HTTP or relayed to "one"; 7000
  // (undeclared) relayed to the greeter; `policies` attached to the Service. With
  // `sniRoutes`, tls[] routes on 5000 and 7000 ahead of those: SNI *.two.example.com
  // to backend "two".
  void configure(std::vector<weft::v1::HttpAuthorization> policies = {}, bool sniRoutes = false) {
    xds::HeldResources held;
    auto addPort = [&](uint32_t port, const std::string& backend, bool detect) {
      const std::string name = fmt::format("shop/waypoint/{}:{}", kService, port);
      const std::string clusterName = fmt::format("outbound|{}||{}", port, kService);
      auto* listener = held[kListenerType][name].mutable_listener();
      listener->set_name(name);
      listener->set_port(port);
      listener->set_protocol(detect ? weft::v1::Listener::HTTP : weft::v1::Listener::TCP);
      listener->set_detect_protocol(detect);
      listener->set_route_config_name(name);
      listener->set_gateway("shop/waypoint");
      listener->set_waypoint_service(kService);
      listener->add_waypoint_authorities(fmt::format("198.19.0.20:{}", port));
      (*listener->mutable_selector())["gateway.networking.k8s.io/gateway-name"] = "waypoint";
      auto* tcpRoute = listener->add_tcp_routes();
      tcpRoute->set_name(fmt::format("default/{}:{}", kService, port));
      auto* toBackend = tcpRoute->add_clusters();
      toBackend->set_cluster(clusterName);
      toBackend->set_weight(1);
      if (detect) {
        auto* vhost = held[kRouteConfigurationType][name].mutable_route_configuration()->add_virtual_hosts();
        vhost->set_name(name);
        vhost->add_domains("*");
        auto* route = vhost->add_routes();
        route->set_name("default");
        auto* httpCluster = route->mutable_route()->add_clusters();
        httpCluster->set_cluster(clusterName);
        httpCluster->set_weight(1);
      }
      auto* cluster = held[kClusterType][clusterName].mutable_cluster();
      cluster->set_name(clusterName);
      cluster->set_service_hostname(kService);
      cluster->set_service_namespace("shop");
      cluster->add_endpoints(fmt::format("127.0.0.1:{}", backends_.at(backend)->local_endpoint().port()));
    };
    addPort(5000, "one", false);
    addPort(6000, "one", true);
    addPort(7000, "greeter", true);
    if (sniRoutes) {
      const std::string clusterName = "outbound|5000||two.shop.svc.cluster.local";
      auto* cluster = held[kClusterType][clusterName].mutable_cluster();
      cluster->set_name(clusterName);
      cluster->set_service_hostname("two.shop.svc.cluster.local");
      cluster->set_service_namespace("shop");
      cluster->add_endpoints(fmt::format("127.0.0.1:{}", backends_.at("two")->local_endpoint().port()));
      for (uint32_t port : {5000, 7000}) {
        auto* routes = held[kListenerType][fmt::format("shop/waypoint/{}:{}", kService, port)].mutable_listener()->mutable_tcp_routes();
        weft::v1::TcpRoute byName;
        byName.set_name("shop/store/tls.0.0");
        byName.add_sni_hosts("*.two.example.com");
        auto* to = byName.add_clusters();
        to->set_cluster(clusterName);
        to->set_weight(1);
        routes->Add(std::move(byName));
        std::rotate(routes->rbegin(), routes->rbegin() + 1, routes->rend());  // first, as weftd orders them
      }
    }
    for (auto& p : policies) *held[kHttpAuthorizationType][p.namespace_() + "/" + p.name()].mutable_http_authorization() = std::move(p);
    auto config = ProxyConfig::build(held, {{"gateway.networking.k8s.io/gateway-name", "waypoint"}}, nullptr, "shop");
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_EQ((*config)->waypointTargetCount(), 3u);
    server_.setConfig(*config);
  }

  struct Exchange {
    int connectStatus = 0;
    std::string answer;  // everything read until the waypoint half-closed or reset
  };

  // A CONNECT to the waypoint for `authority`, as the client's ztunnel sends it.
  hbone::ConnectTarget connectTarget(const std::string& authority) {
    hbone::ConnectTarget t;
    t.sourceIdentity = kClientId;
    t.destinationIdentity = kWaypointId;
    t.destinationIp = asio::ip::make_address("127.0.0.1");
    t.peer = tcp::endpoint(t.destinationIp, listener_.port());
    t.authority = authority;
    t.tls = clientTls_;
    t.expectedServerIds = {kWaypointId};
    return t;
  }

  // A tunnel to `authority`: `send` written, then (with `halfClose`) END_STREAM, then
  // everything the waypoint sends back.
  Exchange run(std::string authority, std::string send, bool halfClose = true) {
    Exchange out;
    hbone::testing::runCoroutine(io_, [&]() -> asio::awaitable<void> {
      auto t = connectTarget(authority);
      auto stream = co_await pool_.connect(std::move(t));
      out.connectStatus = stream.status();
      if (!stream) co_return;
      if (!send.empty()) {
        auto bytes = send;  // named: see the GCC 12 note in gateway_server.cc
        auto written = co_await (*stream)->write(std::move(bytes));
        if (!written) co_return;
      }
      if (halfClose) EXPECT_TRUE((*stream)->closeWrite());
      while (true) {
        auto chunk = co_await (*stream)->read();
        if (!chunk || chunk->empty()) break;
        out.answer += *chunk;
        // A server-first exchange is over once its greeting and echo are here.
        if (!halfClose && out.answer.find("echoed\n") != std::string::npos) break;
      }
    });
    return out;
  }

  // A tunnel to port 7000 whose client sends nothing until it has the greeting (as SMTP or
  // MySQL clients do), then "echoed\n" and its end.
  Exchange runServerFirst() {
    Exchange e;
    hbone::testing::runCoroutine(io_, [&]() -> asio::awaitable<void> {
      auto t = connectTarget(kServerFirst);
      auto stream = co_await pool_.connect(std::move(t));
      e.connectStatus = stream.status();
      if (!stream) co_return;
      auto greeting = co_await (*stream)->read();
      if (!greeting) co_return;
      e.answer = *greeting;
      auto line = std::string("echoed\n");
      auto written = co_await (*stream)->write(std::move(line));
      EXPECT_TRUE(written);
      EXPECT_TRUE((*stream)->closeWrite());
      while (true) {
        auto chunk = co_await (*stream)->read();
        if (!chunk || chunk->empty()) break;
        e.answer += *chunk;
      }
    });
    return e;
  }

  std::string metrics() const { return metrics_.prometheusText(); }

  static TestMesh* mesh_;
  asio::io_context io_;
  RequestMetrics metrics_{SourceWorkload{"waypoint", "shop", "waypoint", "unknown", "unknown", "Kubernetes", "waypoint"}};
  GatewayServer server_{io_, metrics_, ServerOptions{}};
  WaypointListener listener_{io_, server_};
  std::map<std::string, std::shared_ptr<tcp::acceptor>> backends_;
  std::shared_ptr<asio::ssl::context> clientTls_;
  hbone::HboneCounters clientCounters_;
  hbone::HbonePool pool_{io_.get_executor(), hbone::PoolOptions{}, clientCounters_};
};

TestMesh* WaypointTcpTest::mesh_ = nullptr;

TEST_F(WaypointTcpTest, ATcpPortRelaysBytesBothWaysAndNamesTheClientInItsMetrics) {
  configure();
  // Bytes that look like HTTP are still bytes on a port declared tcp.
  Exchange e = run(kTcpPort, "hello\nGET\n");
  EXPECT_EQ(e.connectStatus, 200);
  EXPECT_EQ(e.answer, "one hello\none GET\n");
  std::string m = metrics();
  EXPECT_NE(m.find("istio_tcp_connections_closed_total{reporter=\"waypoint\",source_workload=\"unknown\",source_workload_namespace=\"front\","
                   "source_principal=\"" + kClientId + "\""),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("destination_service=\"" + kService + "\""), std::string::npos);
  EXPECT_NE(m.find("istio_tcp_received_bytes_total"), std::string::npos);
  EXPECT_EQ(m.find("istio_requests_total{"), std::string::npos) << "a relayed connection is not a request";
}

// VirtualService tls[] at a waypoint: the ClientHello's SNI picks the route; a ClientHello
// for another name, bytes that are not TLS, and a client that waits for the server's
// greeting take the route for any name.
TEST_F(WaypointTcpTest, TlsRoutesPickByTheClientHellosServerName) {
  configure({}, true);
  std::string hello = testing::realClientHello("api.two.example.com");
  Exchange named = run(kTcpPort, hello + "\n");
  EXPECT_EQ(named.connectStatus, 200);
  EXPECT_TRUE(named.answer.starts_with("two \x16\x03")) << "the ClientHello reached backend two untouched";
  EXPECT_EQ(named.answer.size(), hello.size() + 1 + 4 * static_cast<size_t>(std::count(hello.begin(), hello.end(), '\n') + 1));

  Exchange other = run(kTcpPort, testing::realClientHello("elsewhere.example.com") + "\n");
  EXPECT_TRUE(other.answer.starts_with("one \x16\x03")) << other.answer.substr(0, 8);
  EXPECT_EQ(run(kTcpPort, "plain bytes\n").answer, "one plain bytes\n");

  // Port 7000's backend speaks first: the waypoint waits a second for a ClientHello (after
  // its second for HTTP), then relays to it.
  EXPECT_EQ(runServerFirst().answer, "ready\ngreeter echoed\n");
  std::string m = metrics();
  EXPECT_NE(m.find("destination_service=\"two.shop.svc.cluster.local\""), std::string::npos) << m;
}

TEST_F(WaypointTcpTest, AnUndeclaredPortServesHttpWhenTheFirstBytesAreHttpAndRelaysTheRest) {
  configure();
  Exchange http = run(kUndeclared, "GET /x HTTP/1.1\r\nHost: store\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(http.connectStatus, 200);
  EXPECT_TRUE(http.answer.starts_with("HTTP/1.1 200 OK\r\n")) << http.answer;
  EXPECT_TRUE(http.answer.ends_with("\r\n\r\nhttp")) << http.answer;
  EXPECT_NE(metrics().find("istio_requests_total{reporter=\"waypoint\""), std::string::npos) << "served as a request";

  Exchange bytes = run(kUndeclared, "hello tcp\n");
  EXPECT_EQ(bytes.answer, "one hello tcp\n");
  EXPECT_NE(metrics().find("istio_tcp_connections_closed_total{reporter=\"waypoint\""), std::string::npos);
}

TEST_F(WaypointTcpTest, AServerThatSpeaksFirstOnAnUndeclaredPortIsReachedAfterTheWait) {
  configure();
  Exchange e = runServerFirst();
  EXPECT_EQ(e.connectStatus, 200);
  EXPECT_EQ(e.answer, "ready\ngreeter echoed\n");
}

weft::v1::HttpAuthorization onStore(const std::string& name, weft::v1::Authorization::Action action) {
  weft::v1::HttpAuthorization p;
  p.set_name(name);
  p.set_namespace_("shop");
  p.set_action(action);
  p.add_target_services(kService);
  return p;
}

weft::v1::Match exact(const std::string& value) {
  weft::v1::Match m;
  m.set_value(value);
  return m;
}

TEST_F(WaypointTcpTest, PoliciesOnTheServiceDecideWithAConnectionsFieldsOnly) {
  // DENY with a method: the method is left out for a connection, so port 5000 is denied.
  auto denyGet = onStore("no-get", weft::v1::Authorization::DENY);
  auto* rule = denyGet.add_rules();
  *rule->add_to()->add_methods() = exact("GET");
  rule->mutable_to(0)->add_ports(5000);
  configure({denyGet});
  Exchange denied = run(kTcpPort, "hello\n");
  EXPECT_EQ(denied.answer, "") << "the connection is closed before any upstream";
  // Counted against the Service, with no byte relayed, and its client named.
  std::string m = metrics();
  EXPECT_NE(m.find("istio_tcp_connections_closed_total{reporter=\"waypoint\""), std::string::npos) << m;
  EXPECT_NE(m.find("source_principal=\"" + kClientId + "\""), std::string::npos) << m;
  size_t received = m.find("istio_tcp_received_bytes_total{");
  ASSERT_NE(received, std::string::npos) << m;
  std::string line = m.substr(received, m.find('\n', received) - received);
  EXPECT_TRUE(line.ends_with("} 0")) << "no byte relayed: " << line;
  Exchange elsewhere = run(kUndeclared, "hello\n");
  EXPECT_EQ(elsewhere.answer, "one hello\n") << "the rule's port still has to match";

  // ALLOW by principal takes the connection; ALLOW by an HTTP field takes none, even
  // notPaths, which a connection's empty path would meet.
  auto allowPaths = onStore("paths", weft::v1::Authorization::ALLOW);
  *allowPaths.add_rules()->add_to()->add_not_paths() = exact("/admin");
  configure({allowPaths});
  EXPECT_EQ(run(kTcpPort, "hello\n").answer, "");
  auto allowCurl = onStore("curl", weft::v1::Authorization::ALLOW);
  *allowCurl.add_rules()->add_from()->add_principals() = exact("cluster.local/ns/front/sa/curl");
  configure({allowPaths, allowCurl});
  EXPECT_EQ(run(kTcpPort, "hello\n").answer, "one hello\n");
}

}  // namespace
}  // namespace weft::proxy
