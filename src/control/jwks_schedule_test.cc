#include "control/jwks_schedule.h"

#include <gtest/gtest.h>

namespace weft::control {
namespace {

using namespace std::chrono_literals;
using TimePoint = JwksSchedule::TimePoint;

const JwksSource kUri{"https://idp.example/jwks.json", "https://idp.example"};
const JwksSource kDiscovery{"", "https://other.example"};

TEST(JwksSchedule, NewSourcesAreDueAtOnceThenEveryRefresh) {
  JwksSchedule schedule({20min, 1s});
  TimePoint t0{};
  EXPECT_FALSE(schedule.want({kUri, kDiscovery}, t0)) << "nothing fetched yet: nothing the registry reads changed";
  EXPECT_EQ(schedule.due(t0).size(), 2u);
  EXPECT_TRUE(schedule.record(kUri, Result<std::string>(std::string(R"({"keys":[]})")), t0 + 1s));
  EXPECT_EQ(schedule.results().at(kUri.key()).jwks, R"({"keys":[]})");
  EXPECT_EQ(schedule.due(t0 + 1s).size(), 1u) << "only the discovery source is left";
  EXPECT_TRUE(schedule.record(kDiscovery, Result<std::string>(std::string(R"({"keys":[1]})")), t0 + 1s));
  EXPECT_TRUE(schedule.due(t0 + 20min).empty());
  EXPECT_EQ(schedule.nextDue(), t0 + 1s + 20min);
  EXPECT_EQ(schedule.due(t0 + 1s + 20min).size(), 2u);
  EXPECT_FALSE(schedule.record(kUri, Result<std::string>(std::string(R"({"keys":[]})")), t0 + 21min)) << "the same keys: no rebuild";
}

TEST(JwksSchedule, FailuresBackOffAndKeepTheLastKeys) {
  JwksSchedule schedule({20min, 1s});
  TimePoint t{};
  schedule.want({kUri}, t);
  EXPECT_TRUE(schedule.record(kUri, Result<std::string>(Error{"HTTP 503"}), t)) << "the first failure is news (its note)";
  EXPECT_EQ(schedule.nextDue(), t + 1s);
  EXPECT_FALSE(schedule.record(kUri, Result<std::string>(Error{"HTTP 503"}), t + 1s)) << "the same failure again: no rebuild";
  EXPECT_EQ(schedule.nextDue(), t + 1s + 2s);
  EXPECT_FALSE(schedule.record(kUri, Result<std::string>(Error{"HTTP 503"}), t + 3s));
  EXPECT_EQ(schedule.nextDue(), t + 3s + 4s);
  for (int i = 0; i < 20; ++i) schedule.record(kUri, Result<std::string>(Error{"HTTP 503"}), t);
  EXPECT_EQ(schedule.nextDue(), t + 20min) << "the back-off stops at the refresh interval";

  EXPECT_TRUE(schedule.record(kUri, Result<std::string>(std::string("{\"keys\":[]}")), t));
  EXPECT_EQ(schedule.nextDue(), t + 20min);
  EXPECT_TRUE(schedule.record(kUri, Result<std::string>(Error{"timed out"}), t + 20min));
  auto fetched = schedule.results().at(kUri.key());
  EXPECT_EQ(fetched.jwks, "{\"keys\":[]}") << "a failed refresh keeps the keys fetched before";
  EXPECT_EQ(fetched.error, "timed out");
  EXPECT_EQ(schedule.nextDue(), t + 20min + 1s) << "the back-off starts again after a success";
}

TEST(JwksSchedule, SourcesNoLongerWantedAreForgotten) {
  JwksSchedule schedule;
  TimePoint t{};
  schedule.want({kUri, kDiscovery}, t);
  schedule.record(kUri, Result<std::string>(std::string("{\"keys\":[]}")), t);
  EXPECT_TRUE(schedule.want({kDiscovery}, t)) << "the keys of a removed rule are dropped";
  EXPECT_EQ(schedule.results().count(kUri.key()), 0u);
  EXPECT_FALSE(schedule.record(kUri, Result<std::string>(std::string("{\"keys\":[]}")), t)) << "a fetch that ends after its rule went is ignored";
  EXPECT_EQ(schedule.nextDue(), t);
  EXPECT_FALSE(schedule.want({}, t)) << "the discovery source was never fetched: dropping it changes nothing the registry read";
  EXPECT_EQ(schedule.nextDue(), TimePoint::max()) << "nothing wanted: the resolver sleeps";
}

TEST(JwksSchedule, OneFetchForRulesSharingAUrlWithTheLongerTimeout) {
  JwksSchedule schedule;
  TimePoint t{};
  JwksSource a = kUri, b = kUri;
  a.timeout = 2s;
  b.timeout = 9s;
  schedule.want({a, b}, t);
  auto due = schedule.due(t);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].timeout, 9s);
}

}  // namespace
}  // namespace weft::control
