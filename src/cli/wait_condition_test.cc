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
  for (const char* bad : {"ready", "condition=", "jsonpath=", "jsonpath={.a", "jsonpath={.a}x", "create"}) {
    EXPECT_FALSE(parseWaitFor(bad)) << bad;
  }
}

TEST(WaitFor, ConditionsMatchTypeAndStatusInAnyCaseAndOnlyWhenCurrent) {
  EXPECT_TRUE(waitMet(*parseWaitFor("condition=accepted"), kGateway));
  EXPECT_FALSE(waitMet(*parseWaitFor("condition=Programmed"), kGateway));
  EXPECT_TRUE(waitMet(*parseWaitFor("condition=Programmed=False"), kGateway));
  EXPECT_FALSE(waitMet(*parseWaitFor("condition=Missing"), kGateway));
  EXPECT_FALSE(waitMet(*parseWaitFor("condition=Stale"), kGateway)) << "observedGeneration 2 is behind generation 3";
}

TEST(WaitFor, JsonPathGivesTheValueOrAnything) {
  EXPECT_TRUE(waitMet(*parseWaitFor("jsonpath={.status.addresses[0].value}=127.0.0.1"), kGateway));
  EXPECT_FALSE(waitMet(*parseWaitFor("jsonpath={.status.addresses[0].value}=10.0.0.1"), kGateway));
  EXPECT_TRUE(waitMet(*parseWaitFor("jsonpath={.status.addresses}"), kGateway));
  EXPECT_FALSE(waitMet(*parseWaitFor("jsonpath={.status.nothing}"), kGateway));
  EXPECT_FALSE(waitMet(*parseWaitFor("delete"), kGateway));
}

}  // namespace
}  // namespace weft::cli
