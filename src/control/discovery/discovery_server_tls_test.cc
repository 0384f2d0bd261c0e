// The discovery server behind mutual TLS, as weftd serves it on 15012: weftd's serving
// certificate, node agents presenting their node credential, all from the mesh CA.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "base/clock.h"
#include "ca/ca_bundle.h"
#include "control/discovery/discovery_server.h"
#include "control/discovery/discovery_test_client.h"
#include "control/discovery/resource_types.h"
#include "control/discovery/test_resources.h"
#include "control/node_credential.h"
#include "control/serving_credential.h"

namespace weft::control::discovery {
namespace {

using State = DiscoveryTestClient::State;

class DiscoveryServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = ca::makeSelfSignedCa("acmellc.local", systemClock());
    ASSERT_TRUE(ca) << ca.error().message;
    ca_ = std::make_shared<ca::CaBundle>(std::move(*ca));
    auto serving = issueServingCredential(*ca_, controlPlaneDnsNames("default"), systemClock());
    ASSERT_TRUE(serving) << serving.error().message;
    grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = ca_->rootPem();
    options.pem_key_cert_pairs.push_back({serving->keyPem, serving->certChainPem});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(options), &port_);
    builder.RegisterService(&discovery_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    discovery_.shutdown();
    if (server_) server_->Shutdown();
  }

  // A node agent dialing istiod.istio-system.svc with `certPem`/`keyPem` (none when empty).
  std::unique_ptr<DiscoveryTestClient> client(const std::string& node, const std::string& certPem,
                                              const std::string& keyPem) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ca_->rootPem();
    options.pem_cert_chain = certPem;
    options.pem_private_key = keyPem;
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("istiod.istio-system.svc");
    weft::v1::ClientNode clientNode;
    clientNode.set_id("ztunnel~" + node);
    clientNode.set_node_name(node);
    clientNode.set_role("ztunnel");
    return std::make_unique<DiscoveryTestClient>(
        DiscoveryTestClient::makeChannel(fmt::format("127.0.0.1:{}", port_), grpc::SslCredentials(options), arguments),
        clientNode);
  }

  std::shared_ptr<ca::CaBundle> ca_;
  DiscoveryServer discovery_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(DiscoveryServerTlsTest, ANodeWithItsCredentialSubscribesOverMutualTls) {
  SnapshotBuilder builder;
  ASSERT_TRUE(builder.add(testing::workload("httpbin", "198.18.0.5", "c-worker")));
  ASSERT_TRUE(discovery_.publish(std::move(builder).build(1)));
  auto node = issueNodeCredential(*ca_, "c-worker", systemClock());
  ASSERT_TRUE(node) << node.error().message;
  auto ztunnel = client("c-worker", node->certChainPem, node->keyPem);
  ztunnel->connect();
  ztunnel->subscribe(std::string(kWorkloadType), {"*"});
  ASSERT_TRUE(ztunnel->waitUntil(
      [](const State& s) { return s.find(std::string(kWorkloadType), "default/httpbin") != nullptr; }));
  EXPECT_TRUE(ztunnel->state().connected);
}

TEST_F(DiscoveryServerTlsTest, AClientWithoutACertificateIsTurnedAwayByTheHandshake) {
  auto anonymous = client("c-worker", "", "");
  anonymous->connect();
  anonymous->subscribe(std::string(kWorkloadType), {"*"});
  ASSERT_TRUE(anonymous->waitUntil([](const State& s) { return s.ended.has_value(); }));
  EXPECT_EQ(anonymous->state().ended->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(anonymous->state().responses.empty());
  EXPECT_EQ(discovery_.metrics().connectedClients, 0);
}

}  // namespace
}  // namespace weft::control::discovery
