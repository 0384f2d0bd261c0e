// Contract tests of the discovery server over real gRPC on loopback: what a client receives
// on subscribe, on change, on NACK and on reconnect, and that the server ends cleanly.
// Waits are bounded polls on the client's or server's state, never sleeps.

#include "control/discovery/discovery_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "control/discovery/discovery_test_client.h"
#include "control/discovery/resource_types.h"
#include "control/discovery/test_resources.h"

namespace weft::control::discovery {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::service;
using testing::workload;
using State = DiscoveryTestClient::State;

const std::string kWorkloads(kWorkloadType);
const std::string kServices(kServiceType);
constexpr auto kGenerous = std::chrono::seconds(20);

std::vector<std::string> namesIn(const weft::v1::DeltaResponse& response) {
  std::vector<std::string> names;
  for (const auto& resource : response.resources()) names.push_back(resource.name());
  return names;
}

// Polls `condition` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class DiscoveryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&discovery_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    clients_.clear();
    discovery_.shutdown();
    server_->Shutdown();
  }

  DiscoveryTestClient& connect(const std::string& id) {
    weft::v1::ClientNode node;
    node.set_id(id);
    node.set_role("test");
    clients_.push_back(std::make_unique<DiscoveryTestClient>(
        DiscoveryTestClient::makeChannel(target(), grpc::InsecureChannelCredentials()), node));
    clients_.back()->connect();
    return *clients_.back();
  }

  std::string target() const { return fmt::format("127.0.0.1:{}", port_); }

  void publish(const std::vector<weft::v1::Resource>& resources) {
    SnapshotBuilder builder;
    for (const auto& resource : resources) ASSERT_TRUE(builder.add(resource));
    auto published = discovery_.publish(std::move(builder).build(++sequence_));
    ASSERT_TRUE(published) << published.error().message;
  }

  static bool holds(const State& state, const std::string& type, const std::string& name, const std::string& address) {
    const weft::v1::Resource* resource = state.find(type, name);
    if (resource == nullptr) return false;
    if (resource->has_workload()) return resource->workload().addresses(0) == address;
    return resource->service().addresses(0) == address;
  }

  DiscoveryServer discovery_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  uint64_t sequence_ = 0;
  std::vector<std::unique_ptr<DiscoveryTestClient>> clients_;
};

TEST_F(DiscoveryServerTest, SubscribingGetsTheCurrentStateOfThatType) {
  publish({workload("a", "198.18.0.1"), workload("b", "198.18.0.2"), service("httpbin", "198.19.0.1")});
  auto& client = connect("ztunnel~worker");
  ASSERT_TRUE(client.subscribe(kWorkloads, {"*"}));
  ASSERT_TRUE(client.waitUntil([](const State& s) { return s.responses.size() == 1; }));
  State state = client.state();
  EXPECT_THAT(namesIn(state.responses[0]), ElementsAre("default/a", "default/b"));
  EXPECT_EQ(state.responses[0].system_version_info(), "1");
  EXPECT_TRUE(holds(state, kWorkloads, "default/a", "198.18.0.1"));
  EXPECT_EQ(state.resources.count(kServices), 0u);
  EXPECT_TRUE(eventually([&] { return discovery_.metrics().acks == 1; }));
  EXPECT_EQ(discovery_.metrics().connectedClients, 1);
  EXPECT_EQ(discovery_.metrics().resourcesSent, 2u);
}

TEST_F(DiscoveryServerTest, SubscriptionsBeforeTheFirstSnapshotAreAnsweredByIt) {
  auto& client = connect("ztunnel~worker");
  ASSERT_TRUE(client.subscribe(kWorkloads, {"*"}));
  ASSERT_TRUE(eventually([&] { return discovery_.metrics().connectedClients == 1; }));
  publish({workload("a", "198.18.0.1")});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return s.responses.size() == 1; }));
  EXPECT_THAT(namesIn(client.state().responses[0]), ElementsAre("default/a"));
}

TEST_F(DiscoveryServerTest, AChangePushesOnlyTheChangedAndRemovedWorkloads) {
  publish({workload("a", "198.18.0.1"), workload("b", "198.18.0.2"), workload("c", "198.18.0.3")});
  auto& client = connect("ztunnel~worker");
  client.subscribe(kWorkloads, {"*"});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return s.responses.size() == 1; }));

  publish({workload("a", "198.18.0.1"), workload("b", "198.18.0.20")});  // b moved, c deleted
  ASSERT_TRUE(client.waitUntil([](const State& s) { return s.responses.size() == 2; }));
  State state = client.state();
  EXPECT_THAT(namesIn(state.responses[1]), ElementsAre("default/b"));
  EXPECT_THAT(state.responses[1].removed_resources(), ElementsAre("default/c"));
  EXPECT_NE(state.responses[1].nonce(), state.responses[0].nonce());
  EXPECT_TRUE(holds(state, kWorkloads, "default/b", "198.18.0.20"));
  EXPECT_EQ(state.find(kWorkloads, "default/c"), nullptr);
  EXPECT_EQ(state.resources.at(kWorkloads).size(), 2u);
  // The server counts a push once its write returned, which may be after the client read it.
  EXPECT_TRUE(
      eventually([&] { return discovery_.metrics().resourcesSent == 4 && discovery_.metrics().removalsSent == 1; }));
}

TEST_F(DiscoveryServerTest, TypesNotSubscribedAreNeverSent) {
  publish({workload("a", "198.18.0.1"), service("httpbin", "198.19.0.1")});
  auto& client = connect("waypoint~default");
  client.subscribe(kServices, {"*"});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return s.responses.size() == 1; }));
  publish({workload("a", "198.18.0.9"), workload("b", "198.18.0.2"), service("httpbin", "198.19.0.1")});
  publish({workload("a", "198.18.0.9"), workload("b", "198.18.0.2"), service("httpbin", "198.19.0.2")});
  ASSERT_TRUE(client.waitUntil(
      [](const State& s) { return holds(s, kServices, "default/httpbin.default.svc.cluster.local", "198.19.0.2"); }));
  State state = client.state();
  ASSERT_EQ(state.responses.size(), 2u) << "the workload-only snapshot sent nothing";
  for (const auto& response : state.responses) EXPECT_EQ(response.type_url(), kServices);
  EXPECT_EQ(state.resources.count(kWorkloads), 0u);
}

TEST_F(DiscoveryServerTest, ExplicitNamesReceiveOnlyThoseNames) {
  publish({workload("a", "198.18.0.1"), workload("b", "198.18.0.2")});
  auto& client = connect("ztunnel~worker");
  client.subscribe(kWorkloads, {"default/a", "default/missing"});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return s.responses.size() == 1; }));
  State state = client.state();
  EXPECT_THAT(namesIn(state.responses[0]), ElementsAre("default/a"));
  EXPECT_THAT(state.responses[0].removed_resources(), ElementsAre("default/missing")) << "told it does not exist";

  publish({workload("a", "198.18.0.1"), workload("b", "198.18.0.22")});  // not subscribed
  publish({workload("a", "198.18.0.11"), workload("b", "198.18.0.22")});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return holds(s, kWorkloads, "default/a", "198.18.0.11"); }));
  state = client.state();
  ASSERT_EQ(state.responses.size(), 2u);
  EXPECT_THAT(namesIn(state.responses[1]), ElementsAre("default/a"));
  EXPECT_EQ(state.find(kWorkloads, "default/b"), nullptr);

  client.unsubscribe(kWorkloads, {"default/a"});
  client.subscribe(kWorkloads, {"default/b"});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return holds(s, kWorkloads, "default/b", "198.18.0.22"); }));
  EXPECT_EQ(client.state().find(kWorkloads, "default/a"), nullptr);
}

TEST_F(DiscoveryServerTest, ANackKeepsThePreviousVersionIsCountedAndIsNotRetried) {
  publish({workload("a", "198.18.0.1"), workload("b", "198.18.0.2")});
  auto& client = connect("ztunnel~worker");
  // This client cannot take addresses outside 198.18.0.0/24.
  client.rejectWhen([](const weft::v1::DeltaResponse& response) -> std::optional<std::string> {
    for (const auto& resource : response.resources()) {
      if (resource.workload().addresses(0).starts_with("198.18.9."))
        return "address " + resource.workload().addresses(0) + " is not routable";
    }
    return std::nullopt;
  });
  client.subscribe(kWorkloads, {"*"});
  // Each step waits for the server to have the client's answer: an answer that arrives
  // after the next response went out is stale, and rightly not counted.
  ASSERT_TRUE(eventually([&] { return discovery_.metrics().acks == 1; }));

  publish({workload("a", "198.18.9.1"), workload("b", "198.18.0.2")});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return s.nacks == 1; }));
  EXPECT_TRUE(holds(client.state(), kWorkloads, "default/a", "198.18.0.1")) << "the client kept its version";
  ASSERT_TRUE(eventually([&] { return discovery_.metrics().nacks == 1; }));

  // An unrelated change: only b is sent; the rejected a is not offered again.
  publish({workload("a", "198.18.9.1"), workload("b", "198.18.0.20")});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return holds(s, kWorkloads, "default/b", "198.18.0.20"); }));
  EXPECT_THAT(namesIn(client.state().responses.back()), ElementsAre("default/b"));
  ASSERT_TRUE(eventually([&] { return discovery_.metrics().acks == 2; }));

  // a is fixed: delivered.
  publish({workload("a", "198.18.0.100"), workload("b", "198.18.0.20")});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return holds(s, kWorkloads, "default/a", "198.18.0.100"); }));
  State state = client.state();
  EXPECT_EQ(state.responses.size(), 4u);
  EXPECT_EQ(state.nacks, 1u);
  EXPECT_EQ(discovery_.metrics().nacks, 1u);
  EXPECT_TRUE(eventually([&] { return discovery_.metrics().acks == 3; }));
  EXPECT_EQ(discovery_.metrics().staleNonces, 0u);
}

TEST_F(DiscoveryServerTest, AReconnectingClientGetsOnlyTheDifferences) {
  publish({workload("a", "198.18.0.1"), workload("b", "198.18.0.2"), workload("c", "198.18.0.3")});
  auto& client = connect("ztunnel~worker");
  client.subscribe(kWorkloads, {"*"});
  ASSERT_TRUE(client.waitUntil([](const State& s) { return s.responses.size() == 1; }));

  client.disconnect();
  ASSERT_TRUE(eventually([&] { return discovery_.metrics().connectedClients == 0; }));
  publish({workload("a", "198.18.0.1"), workload("b", "198.18.0.20"), workload("d", "198.18.0.4")});

  client.reconnect();
  ASSERT_TRUE(client.waitUntil([](const State& s) { return s.responses.size() == 2; }));
  State state = client.state();
  EXPECT_THAT(namesIn(state.responses[1]), ElementsAre("default/b", "default/d")) << "a was held at its version";
  EXPECT_THAT(state.responses[1].removed_resources(), ElementsAre("default/c"));
  EXPECT_EQ(state.resources.at(kWorkloads).size(), 3u);
  EXPECT_TRUE(holds(state, kWorkloads, "default/a", "198.18.0.1"));
}

TEST_F(DiscoveryServerTest, AStreamWithoutANodeIsRefused) {
  auto stub = weft::v1::DiscoveryService::NewStub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->DeltaStream(&context);
  weft::v1::DeltaRequest request;
  request.set_type_url(kWorkloads);
  request.add_subscribe("*");
  stream->Write(request);
  weft::v1::DeltaResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "the first request must name the node");
  EXPECT_EQ(discovery_.metrics().refusedStreams, 1u);
  EXPECT_EQ(discovery_.metrics().connectedClients, 0);
}

TEST_F(DiscoveryServerTest, AHundredClientsAllReceiveAPublish) {
  constexpr int kClients = 100;
  std::vector<weft::v1::Resource> world;
  for (int i = 0; i < 50; ++i) world.push_back(workload(fmt::format("pod-{}", i), fmt::format("198.18.0.{}", i + 1)));
  publish(world);
  for (int i = 0; i < kClients; ++i) connect(fmt::format("ztunnel~node-{}", i)).subscribe(kWorkloads, {"*"});
  for (auto& client : clients_) {
    ASSERT_TRUE(client->waitUntil(
        [](const State& s) { return s.resources.count(kWorkloads) && s.resources.at(kWorkloads).size() == 50; },
        kGenerous));
  }
  EXPECT_EQ(discovery_.metrics().connectedClients, kClients);

  world[7] = workload("pod-7", "198.18.1.7");
  publish(world);
  for (auto& client : clients_) {
    ASSERT_TRUE(client->waitUntil([](const State& s) { return holds(s, kWorkloads, "default/pod-7", "198.18.1.7"); },
                                  kGenerous));
    EXPECT_THAT(namesIn(client->state().responses.back()), ElementsAre("default/pod-7"));
  }
  ASSERT_TRUE(eventually([&] { return discovery_.metrics().pushLatency.count() == kClients; }, kGenerous));
  EXPECT_GT(discovery_.metrics().pushLatency.quantileSeconds(0.99), 0.0);
  EXPECT_EQ(discovery_.metrics().resourcesSent, uint64_t{kClients} * 51);
}

TEST_F(DiscoveryServerTest, ShutdownEndsConnectedStreamsPromptly) {
  publish({workload("a", "198.18.0.1")});
  for (int i = 0; i < 5; ++i) connect(fmt::format("ztunnel~node-{}", i)).subscribe(kWorkloads, {"*"});
  for (auto& client : clients_) ASSERT_TRUE(client->waitUntil([](const State& s) { return s.acks == 1; }));

  auto started = std::chrono::steady_clock::now();
  discovery_.shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(discovery_.metrics().connectedClients, 0);
  for (auto& client : clients_) {
    ASSERT_TRUE(client->waitUntil([](const State& s) { return s.ended.has_value(); }));
    EXPECT_FALSE(client->state().ended->ok());
  }

  // Late arrivals are turned away instead of being left hanging.
  auto& late = connect("ztunnel~late");
  ASSERT_TRUE(late.waitUntil([](const State& s) { return s.ended.has_value(); }));
  EXPECT_EQ(late.state().ended->error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace weft::control::discovery
