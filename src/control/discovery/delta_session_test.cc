// The delta-xDS protocol of one stream, driven without sockets: what is answered, what is
// pushed, and what ACK, NACK and stale nonces do to what the server believes the client holds.

#include "control/discovery/delta_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/discovery/resource_types.h"
#include "control/discovery/test_resources.h"

namespace weft::control::discovery {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::service;
using testing::workload;

const std::string kWorkloads(kWorkloadType);
const std::string kServices(kServiceType);

std::shared_ptr<const Snapshot> snapshotOf(uint64_t sequence, const std::vector<weft::v1::Resource>& resources) {
  SnapshotBuilder builder;
  for (const auto& resource : resources) EXPECT_TRUE(builder.add(resource));
  return std::move(builder).build(sequence);
}

weft::v1::DeltaRequest subscribe(const std::string& type, const std::vector<std::string>& names,
                                 const std::map<std::string, std::string>& initial = {}) {
  weft::v1::DeltaRequest request;
  request.set_type_url(type);
  for (const auto& name : names) request.add_subscribe(name);
  for (const auto& [name, version] : initial) (*request.mutable_initial_resource_versions())[name] = version;
  return request;
}

weft::v1::DeltaRequest unsubscribe(const std::string& type, const std::vector<std::string>& names) {
  weft::v1::DeltaRequest request;
  request.set_type_url(type);
  for (const auto& name : names) request.add_unsubscribe(name);
  return request;
}

weft::v1::DeltaRequest ack(const weft::v1::DeltaResponse& response) {
  weft::v1::DeltaRequest request;
  request.set_type_url(response.type_url());
  request.set_response_nonce(response.nonce());
  return request;
}

weft::v1::DeltaRequest nack(const weft::v1::DeltaResponse& response, const std::string& message) {
  weft::v1::DeltaRequest request = ack(response);
  request.mutable_error_detail()->set_message(message);
  return request;
}

std::vector<std::string> namesIn(const weft::v1::DeltaResponse& response) {
  std::vector<std::string> names;
  for (const auto& resource : response.resources()) names.push_back(resource.name());
  return names;
}

std::vector<std::string> removedIn(const weft::v1::DeltaResponse& response) {
  return {response.removed_resources().begin(), response.removed_resources().end()};
}

class DeltaSessionTest : public ::testing::Test {
 protected:
  // Subscribes to every workload and ACKs the initial answer.
  void subscribeToAllWorkloads(const Snapshot& snapshot) {
    session_.apply(subscribe(kWorkloads, {"*"}));
    auto responses = session_.respond(snapshot);
    ASSERT_EQ(responses.size(), 1u);
    ASSERT_EQ(session_.apply(ack(responses[0])), Acknowledgement::kAck);
  }

  DeltaSession session_{"s1"};
  std::shared_ptr<const Snapshot> world_ =
      snapshotOf(1, {workload("a", "198.18.0.1"), workload("b", "198.18.0.2"), workload("c", "198.18.0.3"),
                     service("httpbin", "198.19.0.1")});
};

TEST(ValidateRequest, TheFirstRequestMustNameTheNode) {
  weft::v1::DeltaRequest request = subscribe(kWorkloads, {"*"});
  EXPECT_EQ(validateRequest(request, true).error().message, "the first request must name the node");
  request.mutable_node()->set_role("ztunnel");  // a node without an id names nobody
  EXPECT_FALSE(validateRequest(request, true));
  request.mutable_node()->set_id("ztunnel~worker");
  EXPECT_TRUE(validateRequest(request, true));
  EXPECT_TRUE(validateRequest(subscribe(kWorkloads, {"*"}), false)) << "only the first request names the node";
  weft::v1::DeltaRequest hello;
  hello.mutable_node()->set_id("ztunnel~worker");
  EXPECT_TRUE(validateRequest(hello, true)) << "the node alone is a valid first request";
}

TEST(ValidateRequest, ARequestThatSubscribesOrAnswersMustNameItsType) {
  weft::v1::DeltaRequest request;
  request.add_subscribe("*");
  EXPECT_EQ(validateRequest(request, false).error().message,
            "a request that subscribes or answers must name its type_url");
  weft::v1::DeltaRequest answer;
  answer.set_response_nonce("1-1");
  EXPECT_FALSE(validateRequest(answer, false));
}

TEST_F(DeltaSessionTest, WildcardGetsEveryResourceOfItsTypeAndNoOther) {
  session_.apply(subscribe(kWorkloads, {"*"}));
  auto responses = session_.respond(*world_);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].type_url(), kWorkloads);
  EXPECT_EQ(responses[0].system_version_info(), "1");
  EXPECT_THAT(namesIn(responses[0]), ElementsAre("default/a", "default/b", "default/c"));
  EXPECT_THAT(removedIn(responses[0]), IsEmpty());
  EXPECT_FALSE(responses[0].resources(0).version().empty());
}

TEST_F(DeltaSessionTest, ASubscriptionIsAnsweredEvenWithNothing) {
  session_.apply(subscribe(std::string(kAuthorizationType), {"*"}));
  auto responses = session_.respond(*world_);
  ASSERT_EQ(responses.size(), 1u) << "the client learns its initial state is complete";
  EXPECT_EQ(responses[0].resources_size(), 0);
  EXPECT_EQ(responses[0].removed_resources_size(), 0);
  EXPECT_FALSE(responses[0].nonce().empty());
}

TEST_F(DeltaSessionTest, NothingIsSentWhenNothingChanged) {
  subscribeToAllWorkloads(*world_);
  EXPECT_THAT(session_.respond(*world_), IsEmpty());
  // A new snapshot with the same workloads (a Service changed): nothing for this client.
  auto next = snapshotOf(2, {workload("a", "198.18.0.1"), workload("b", "198.18.0.2"), workload("c", "198.18.0.3"),
                             service("httpbin", "198.19.0.9")});
  EXPECT_THAT(session_.respond(*next), IsEmpty());
}

TEST_F(DeltaSessionTest, OnlyWhatChangedIsPushed) {
  subscribeToAllWorkloads(*world_);
  auto next = snapshotOf(2, {workload("a", "198.18.0.1"), workload("b", "198.18.0.20"), workload("d", "198.18.0.4"),
                             service("httpbin", "198.19.0.1")});
  auto responses = session_.respond(*next);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_THAT(namesIn(responses[0]), ElementsAre("default/b", "default/d"));
  EXPECT_THAT(removedIn(responses[0]), ElementsAre("default/c"));
  EXPECT_EQ(responses[0].system_version_info(), "2");
}

TEST_F(DeltaSessionTest, ExplicitNamesGetOnlyThoseAndHearWhichDoNotExist) {
  session_.apply(subscribe(kWorkloads, {"default/a", "default/nope"}));
  auto responses = session_.respond(*world_);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_THAT(namesIn(responses[0]), ElementsAre("default/a"));
  EXPECT_THAT(removedIn(responses[0]), ElementsAre("default/nope"));
  session_.apply(ack(responses[0]));

  auto bChanged = snapshotOf(2, {workload("a", "198.18.0.1"), workload("b", "198.18.0.9")});
  EXPECT_THAT(session_.respond(*bChanged), IsEmpty()) << "b is not subscribed";
  auto nopeAppears = snapshotOf(3, {workload("a", "198.18.0.1"), workload("nope", "198.18.0.7")});
  responses = session_.respond(*nopeAppears);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_THAT(namesIn(responses[0]), ElementsAre("default/nope"));
}

TEST_F(DeltaSessionTest, AnAckMakesTheSentVersionsHeld) {
  session_.apply(subscribe(kWorkloads, {"*"}));
  auto responses = session_.respond(*world_);
  const TypeSubscription* subscription = session_.subscription(kWorkloads);
  ASSERT_NE(subscription, nullptr);
  EXPECT_THAT(subscription->acked(), IsEmpty()) << "sent is not held until ACKed";
  EXPECT_EQ(session_.apply(ack(responses[0])), Acknowledgement::kAck);
  EXPECT_EQ(subscription->acked().size(), 3u);
  EXPECT_EQ(subscription->acked().at("default/a"), world_->find(kWorkloads, "default/a")->version());
  EXPECT_EQ(session_.apply(ack(responses[0])), Acknowledgement::kStale) << "an answered nonce is not answered twice";
}

TEST_F(DeltaSessionTest, ANackLeavesTheClientOnItsPreviousVersionsAndIsNotResent) {
  subscribeToAllWorkloads(*world_);
  std::string before = world_->find(kWorkloads, "default/a")->version();
  auto bad = snapshotOf(2, {workload("a", "198.18.0.99"), workload("b", "198.18.0.2"), workload("c", "198.18.0.3")});
  auto responses = session_.respond(*bad);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(session_.apply(nack(responses[0], "address 198.18.0.99 is not mine")), Acknowledgement::kNack);
  EXPECT_EQ(session_.subscription(kWorkloads)->acked().at("default/a"), before);
  EXPECT_THAT(session_.respond(*bad), IsEmpty()) << "no NACK loop";
  auto unrelated =
      snapshotOf(3, {workload("a", "198.18.0.99"), workload("b", "198.18.0.22"), workload("c", "198.18.0.3")});
  responses = session_.respond(*unrelated);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_THAT(namesIn(responses[0]), ElementsAre("default/b")) << "the rejected a is not offered again";
  session_.apply(ack(responses[0]));
  auto fixed = snapshotOf(4, {workload("a", "198.18.0.1"), workload("b", "198.18.0.22"), workload("c", "198.18.0.3")});
  responses = session_.respond(*fixed);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_THAT(namesIn(responses[0]), ElementsAre("default/a")) << "a changed again, so it is sent";
}

TEST_F(DeltaSessionTest, AStaleNonceIsIgnored) {
  subscribeToAllWorkloads(*world_);
  auto second = snapshotOf(2, {workload("a", "198.18.0.11"), workload("b", "198.18.0.2"), workload("c", "198.18.0.3")});
  auto first = session_.respond(*second);
  auto third = snapshotOf(3, {workload("a", "198.18.0.11"), workload("b", "198.18.0.12"), workload("c", "198.18.0.3")});
  auto overtaking = session_.respond(*third);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(overtaking.size(), 1u);
  EXPECT_NE(first[0].nonce(), overtaking[0].nonce());
  EXPECT_THAT(namesIn(overtaking[0]), ElementsAre("default/b")) << "a is in flight already";

  std::string aBefore = world_->find(kWorkloads, "default/a")->version();
  EXPECT_EQ(session_.apply(nack(first[0], "late")), Acknowledgement::kStale);
  EXPECT_EQ(session_.subscription(kWorkloads)->acked().at("default/a"), aBefore);
  EXPECT_EQ(session_.apply(ack(overtaking[0])), Acknowledgement::kAck);
  EXPECT_EQ(session_.subscription(kWorkloads)->acked().at("default/a"),
            third->find(kWorkloads, "default/a")->version());
  EXPECT_EQ(session_.subscription(kWorkloads)->acked().at("default/b"),
            third->find(kWorkloads, "default/b")->version());
}

TEST_F(DeltaSessionTest, InitialVersionsMeanOnlyDifferencesAreSent) {
  std::map<std::string, std::string> held = {
      {"default/a", world_->find(kWorkloads, "default/a")->version()},  // current
      {"default/b", "an old version"},                                  // changed since
      {"default/gone", "whatever"},                                     // deleted since
  };
  session_.apply(subscribe(kWorkloads, {"*"}, held));
  auto responses = session_.respond(*world_);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_THAT(namesIn(responses[0]), ElementsAre("default/b", "default/c"));
  EXPECT_THAT(removedIn(responses[0]), ElementsAre("default/gone"));
}

TEST_F(DeltaSessionTest, InitialVersionsCountOnlyWhenTheSubscriptionIsCreated) {
  subscribeToAllWorkloads(*world_);
  session_.apply(subscribe(kWorkloads, {"*"}, {{"default/a", "bogus"}}));
  auto responses = session_.respond(*world_);
  ASSERT_EQ(responses.size(), 1u) << "still answered";
  EXPECT_THAT(namesIn(responses[0]), IsEmpty()) << "the bogus version was ignored";
}

TEST_F(DeltaSessionTest, UnsubscribingStopsPushesAndForgetsWhatWasSent) {
  session_.apply(subscribe(kWorkloads, {"default/a", "default/b"}));
  session_.apply(ack(session_.respond(*world_).at(0)));
  EXPECT_EQ(session_.apply(unsubscribe(kWorkloads, {"default/b"})), Acknowledgement::kNone);
  auto next = snapshotOf(2, {workload("a", "198.18.0.1"), workload("b", "198.18.0.9"), workload("c", "198.18.0.3")});
  EXPECT_THAT(session_.respond(*next), IsEmpty())
      << "b is no longer subscribed, and the client was not told it was removed";
  session_.apply(subscribe(kWorkloads, {"default/b"}));
  auto responses = session_.respond(*next);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_THAT(namesIn(responses[0]), ElementsAre("default/b")) << "subscribing again sends it again";

  session_.apply(unsubscribe(kWorkloads, {"default/a", "default/b"}));
  EXPECT_EQ(session_.subscription(kWorkloads), nullptr);
}

TEST_F(DeltaSessionTest, TypesAreIndependentAndNoncesFresh) {
  session_.apply(subscribe(kWorkloads, {"*"}));
  session_.apply(subscribe(kServices, {"*"}));
  auto responses = session_.respond(*world_);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].type_url(), kServices);
  EXPECT_EQ(responses[1].type_url(), kWorkloads);
  EXPECT_NE(responses[0].nonce(), responses[1].nonce());
  EXPECT_EQ(session_.apply(ack(responses[1])), Acknowledgement::kAck);
  weft::v1::DeltaRequest crossed = ack(responses[0]);
  crossed.set_type_url(kWorkloads);
  EXPECT_EQ(session_.apply(crossed), Acknowledgement::kStale) << "a nonce belongs to its type";
}

}  // namespace
}  // namespace weft::control::discovery
