// `weft wait --for=...`: what it parses and when an object meets it.
#include "cli/wait_condition.h"

#include <boost/json.hpp>

#include <gtest/gtest.h>

namespace weft::cli {
namespace {

namespace json = boost::json;

const json::value kGateway = json::parse(R"({
  "metadata": {"name": "web", "generation": 3},
  "status": {"conditions": [
    {"type": "Accepted", "status": "True", "observedGeneration": 3},
    {"type": "Programmed", "status": "False", "reason": "AddressNotAssigned", "observedGeneration": 3},
    {"type": "Stale", "status": "True", "observedGeneration": 2}],
   "addresses": [{"value": "127.0.0.1"}]}})");

TEST(WaitFor, ParsesKubectlsForms) {
  auto condition = parseWaitFor("condition=Available");
  ASSERT_TRUE(condition);
  EXPECT_EQ(condition->kind, WaitFor::Kind::kCondition);
  EXPECT_EQ(condition->condition, "Available");
  EXPECT_EQ(condition->status, "True");
  auto falsy = parseWaitFor("condition=Programmed=false");
  ASSERT_TRUE(falsy);
  EXPECT_EQ(falsy->status, "false");
  EXPECT_EQ(parseWaitFor("delete")->kind, WaitFor::Kind::kDelete);
  auto path = parseWaitFor("jsonpath={.status.phase}=Running");
  ASSERT_TRUE(path);
  EXPECT_EQ(path->jsonPath, "{.status.phase}");
  EXPECT_EQ(path->value, "Running");
  auto bare = parseWaitFor("jsonpath=.status.phase=Running");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->jsonPath, "{.status.phase}");
  auto exists = parseWaitFor("jsonpath={.status.addresses}");
  ASSERT_TRUE(exists);
  EXPECT_FALSE(exists->value);
  auto filtered = parseWaitFor(R"(jsonpath={.status.conditions[?(@.type=="Ready")].status}=True)");
  ASSERT_TRUE(filtered) << filtered.error().message;
  EXPECT_EQ(filtered->jsonPath, R"({.status.conditions[?(@.type=="Ready")].status})");
  EXPECT_EQ(filtered->value, "True");
  auto bareFiltered = parseWaitFor(R"(jsonpath=.status.conditions[?(@.type=="Ready")].status='True')");
  ASSERT_TRUE(bareFiltered) << bareFiltered.error().message;
  EXPECT_EQ(bareFiltered->jsonPath, R"({.status.conditions[?(@.type=="Ready")].status})");
  EXPECT_EQ(bareFiltered->value, "True") << "quotes around the value are dropped";
  EXPECT_EQ(parseWaitFor("Delete")->kind, WaitFor::Kind::kDelete);
  EXPECT_EQ(parseWaitFor("create")->kind, WaitFor::Kind::kCreate);
  EXPECT_TRUE(*waitMet(*parseWaitFor("create"), boost::json::object{})) << "any object that exists";
  for (const char* bad : {"ready", "condition=", "jsonpath=", "jsonpath={.a", "jsonpath={.a}x", "jsonpath={.a}=", "created"}) {
    EXPECT_FALSE(parseWaitFor(bad)) << bad;
  }
}

TEST(WaitFor, ConditionsMatchTypeAndStatusInAnyCaseAndOnlyWhenCurrent) {
  EXPECT_TRUE(*waitMet(*parseWaitFor("condition=accepted"), kGateway));
  EXPECT_FALSE(*waitMet(*parseWaitFor("condition=Programmed"), kGateway));
  EXPECT_TRUE(*waitMet(*parseWaitFor("condition=Programmed=False"), kGateway));
  EXPECT_FALSE(*waitMet(*parseWaitFor("condition=Missing"), kGateway));
  EXPECT_FALSE(*waitMet(*parseWaitFor("condition=Stale"), kGateway)) << "observedGeneration 2 is behind generation 3";
  // A Deployment keeps observedGeneration in its status, not on its conditions.
  auto deployment = json::parse(R"({"metadata": {"generation": 4}, "status": {"observedGeneration": 3,
    "conditions": [{"type": "Available", "status": "True"}]}})");
  EXPECT_FALSE(*waitMet(*parseWaitFor("condition=available"), deployment)) << "the status is for generation 3";
  deployment.as_object()["status"].as_object()["observedGeneration"] = 4;
  EXPECT_TRUE(*waitMet(*parseWaitFor("condition=available"), deployment));
}

TEST(WaitFor, JsonPathGivesTheValueOrAnything) {
  EXPECT_TRUE(*waitMet(*parseWaitFor("jsonpath={.status.addresses[0].value}=127.0.0.1"), kGateway));
  EXPECT_FALSE(*waitMet(*parseWaitFor("jsonpath={.status.addresses[0].value}=10.0.0.1"), kGateway));
  EXPECT_TRUE(*waitMet(*parseWaitFor("jsonpath={.status.addresses}"), kGateway));
  EXPECT_FALSE(*waitMet(*parseWaitFor("jsonpath={.status.nothing}"), kGateway));
  EXPECT_TRUE(*waitMet(*parseWaitFor(R"(jsonpath={.status.conditions[?(@.type=="Accepted")].status}=True)"), kGateway));
}

}  // namespace
}  // namespace weft::cli
