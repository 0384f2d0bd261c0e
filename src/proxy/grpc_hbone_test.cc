// Unary gRPC through the ingress gateway to a pod in the mesh, with real parts on loopback:
// a gRPC C++ client speaks h2c to the GatewayServer, which reaches the gRPC C++ server
// behind it over HBONE (its own certificate, src/hbone's client) through an HBONE server
// standing in for the pod's ztunnel: it checks the gateway's certificate, records who
// connected where, and relays the CONNECT stream's bytes to the gRPC server untouched, as
// a pod's ztunnel does. The gRPC server speaks only HTTP/2, so an answer proves h2c ran
// inside the tunnel.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <atomic>
#include <future>
#include <thread>

#include "hbone/hbone_server.h"
#include "hbone/test_support.h"
#include "proxy/gateway_server.h"
#include "proxy/ztunnel_stand_in.h"
#include "proxy/grpc_test_support.h"
#include "proxy/polling_test_support.h"
#include "weft/v1/ca.grpc.pb.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using hbone::testing::TestMesh;

const std::string kGatewayId = "spiffe://cluster.local/ns/istio-system/sa/global-ingress-service-account";
const std::string kBackendId = "spiffe://cluster.local/ns/default/sa/standin";
const std::string kMeshHost = "mesh.example.com";    // routed to the endpoint as a mesh endpoint
const std::string kPlainHost = "plain.example.com";  // the same endpoint, outside the mesh
const std::string kConnectFailure = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

ServerOptions optionsWithHbonePort(uint16_t port) {
  ServerOptions options;
  options.hboneServerPort = port;
  return options;
}

class GrpcHboneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mesh_ = new TestMesh(); }
  static void TearDownTestSuite() { delete mesh_; }

  // Runs `f` on the io thread and returns what it returns.
  template <class F>
  auto onIo(F f) {
    return testing::runOnIo(io_, std::move(f));
  }

  void SetUp() override {
    backend_ = testing::startGrpcBackend(service_, backendPort_);
    ASSERT_NE(backend_, nullptr);
    ASSERT_GT(backendPort_, 0);
    gatewayPort_ = testing::freePort();
    ztunnel_.start(hbone::makeServerTlsContext(mesh_->issue(kBackendId)).value());
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
      // Let the closed tunnels and sessions wind down before their owners go.
      io_.restart();
      hbone::testing::drain(io_);
    }
    backend_->Shutdown();
  }

  std::string endpoint() const { return fmt::format("127.0.0.1:{}", backendPort_); }

  // kMeshHost to the stand-in as an endpoint in the mesh presenting `endpointIdentity`,
  // kPlainHost to the same endpoint outside the mesh; both clusters speak HTTP/2.
  void start(const std::string& endpointIdentity) {
    xds::HeldResources held;
    auto* routes = testing::addGatewayListener(held, gatewayPort_);
    for (const auto& [host, identity] : {std::pair{kMeshHost, endpointIdentity}, std::pair{kPlainHost, std::string()}}) {
      std::string clusterName = fmt::format("outbound|9000||{}", host);
      auto* vhost = routes->add_virtual_hosts();
      vhost->set_name(host + ":80");
      vhost->add_domains(host);
      auto* route = vhost->add_routes();
      route->set_name(host);
      route->mutable_match()->mutable_path()->set_prefix("/");
      auto* cluster = route->mutable_route()->add_clusters();
      cluster->set_cluster(clusterName);
      cluster->set_weight(1);
      auto& c = held[kClusterType][clusterName];
      c.set_name(clusterName);
      c.mutable_cluster()->set_name(clusterName);
      c.mutable_cluster()->set_service_hostname("standin.default.svc.cluster.local");
      c.mutable_cluster()->set_service_namespace("default");
      c.mutable_cluster()->mutable_connection_pool()->set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
      c.mutable_cluster()->add_endpoints(endpoint());
      if (!identity.empty()) (*c.mutable_cluster()->mutable_hbone_identities())[endpoint()] = identity;
    }
    auto config = ProxyConfig::build(held, {{"istio", "ingressgateway"}});
    ASSERT_TRUE(config) << config.error().message;
    server_.setConfig(*config);
    ASSERT_TRUE(server_.applyListeners(**config));
    thread_ = std::thread([this] { io_.run(); });
  }

  testing::GrpcCall call(const std::string& csr, const std::string& authority) { return testing::callThroughGateway(gatewayPort_, csr, authority); }

  // (client identity, authority) of every CONNECT the stand-in ztunnel was asked for.
  std::vector<std::pair<std::string, std::string>> tunnelsSeen() {
    return onIo([this] { return ztunnel_.seen(); });
  }

  static TestMesh* mesh_;
  testing::StandIn service_;
  std::unique_ptr<grpc::Server> backend_;
  int backendPort_ = 0;
  uint16_t gatewayPort_ = 0;
  asio::io_context io_;
  testing::StandInZtunnel ztunnel_{io_};
  RequestMetrics metrics_{SourceWorkload{"global-ingress", "istio-system", "global-ingress"}};
  GatewayServer server_{io_, metrics_, optionsWithHbonePort(ztunnel_.port())};
  std::thread thread_;
};

TestMesh* GrpcHboneTest::mesh_ = nullptr;

TEST_F(GrpcHboneTest, AUnaryCallReachesAMeshEndpointOverHbone) {
  ASSERT_TRUE(server_.setTunnelCredentials(mesh_->issue(kGatewayId), kGatewayId));
  start(kBackendId);
  for (int i = 0; i < 3; ++i) {
    auto answer = call("mesh", kMeshHost);
    ASSERT_TRUE(answer.status.ok()) << answer.status.error_code() << " " << answer.status.error_message();
    ASSERT_EQ(answer.response.cert_chain_size(), 2);
    EXPECT_EQ(answer.response.cert_chain(0), "hello mesh");
    EXPECT_EQ(answer.response.cert_chain(1), "http") << "the gateway's x-forwarded-proto, through the tunnel";
    ASSERT_EQ(answer.trailers.count("x-stand-in"), 1u) << "the trailers came back through the tunnel";
  }
  EXPECT_EQ(service_.calls, 3);
  // One HTTP/2 connection carried the three calls, inside one tunnel: the pod's ztunnel saw
  // the gateway's certificate and the pod's address as the CONNECT target.
  auto seen = tunnelsSeen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, kGatewayId);
  EXPECT_EQ(seen[0].second, endpoint());
}

TEST_F(GrpcHboneTest, PlainAndTunnelledConnectionsToOneEndpointAreNotShared) {
  ASSERT_TRUE(server_.setTunnelCredentials(mesh_->issue(kGatewayId), kGatewayId));
  start(kBackendId);
  // The plain connection first: the mesh call must not ride on it.
  ASSERT_TRUE(call("plain", kPlainHost).status.ok());
  EXPECT_TRUE(tunnelsSeen().empty());
  ASSERT_TRUE(call("mesh", kMeshHost).status.ok());
  EXPECT_EQ(tunnelsSeen().size(), 1u);
  ASSERT_TRUE(call("plain", kPlainHost).status.ok());
  ASSERT_TRUE(call("mesh", kMeshHost).status.ok());
  EXPECT_EQ(tunnelsSeen().size(), 1u) << "each kind reuses its own connection";
  EXPECT_EQ(service_.calls, 4);
}

TEST_F(GrpcHboneTest, AnEndpointPresentingAnotherIdentityIsNotSentTheCall) {
  ASSERT_TRUE(server_.setTunnelCredentials(mesh_->issue(kGatewayId), kGatewayId));
  start("spiffe://cluster.local/ns/default/sa/someone-else");
  auto answer = call("mesh", kMeshHost);
  // The gateway's 503 UF as a gRPC local reply (UNAVAILABLE, the body as the message).
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(answer.status.error_message(), kConnectFailure);
  EXPECT_EQ(service_.calls, 0);
  EXPECT_TRUE(tunnelsSeen().empty()) << "the TLS handshake failed before any CONNECT";
  std::string metrics = onIo([this] { return metrics_.prometheusText(); });
  EXPECT_NE(metrics.find("response_code=\"200\",grpc_response_status=\"14\",response_flags=\"UF\""), std::string::npos) << metrics;
}

TEST_F(GrpcHboneTest, WithoutItsCertificateNothingGoesToTheMeshEndpoint) {
  // No setTunnelCredentials: the endpoint is never sent plaintext, though it would answer.
  start(kBackendId);
  auto answer = call("mesh", kMeshHost);
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(answer.status.error_message(), kConnectFailure);
  EXPECT_EQ(service_.calls, 0);
  EXPECT_TRUE(tunnelsSeen().empty());
  ASSERT_TRUE(call("plain", kPlainHost).status.ok()) << "outside the mesh it is reached";
  EXPECT_EQ(service_.calls, 1);
}

}  // namespace
}  // namespace weft::proxy
