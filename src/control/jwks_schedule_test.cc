#include "control/jwks_schedule.h"

#include <gtest/gtest.h>

namespace weft::control {
namespace {

using namespace std::chrono_literals;
using TimePoint = JwksSchedule::TimePoint;

const JwksSource kUri{"https://idp.example/jwks.json", "https://idp.example"};
const JwksSource kDiscovery{"", "https://other.example"};

Result<std::string> keys(const std::string& text = R"({"keys":[]})") { return text; }
Result<std::string> failure(const std::string& text) { return Error{text}; }

// Every source due at `now`, taken (as the resolver's threads would).
std::vector<std::string> takeAll(JwksSchedule& schedule, TimePoint now) {
  std::vector<std::string> out;
  while (auto taken = schedule.take(now)) out.push_back(taken->source.key());
  return out;
}

// The fetch of `source` as a thread would hold it (the entry's current incarnation).
JwksSchedule::Taken fetchOf(JwksSchedule& schedule, const JwksSource& source, TimePoint now) {
  schedule.want({source}, now);
  auto taken = schedule.take(now);
  return taken ? *taken : JwksSchedule::Taken{source, 0};
}

TEST(JwksSchedule, NewSourcesAreDueAtOnceThenEveryRefresh) {
  JwksSchedule schedule({20min, 1s});
  TimePoint t0{};
  EXPECT_FALSE(schedule.want({kUri, kDiscovery}, t0)) << "nothing fetched yet: nothing the registry reads changed";
  auto first = schedule.take(t0);
  auto second = schedule.take(t0);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(schedule.take(t0)) << "both are being fetched";
  EXPECT_EQ(schedule.nextDue(), TimePoint::max()) << "nothing to wake for while both are in flight";
  auto& uri = first->source == kUri ? *first : *second;
  auto& discovery = first->source == kUri ? *second : *first;
  EXPECT_TRUE(schedule.record(uri, keys(), t0 + 1s));
  EXPECT_EQ(schedule.results().count(kDiscovery.key()), 0u) << "an entry only once its first fetch ended";
  EXPECT_EQ(schedule.results().at(kUri.key()).jwks, R"({"keys":[]})");
  EXPECT_TRUE(schedule.record(discovery, keys(R"({"keys":[1]})"), t0 + 1s));
  EXPECT_TRUE(takeAll(schedule, t0 + 20min).empty());
  EXPECT_EQ(schedule.nextDue(), t0 + 1s + 20min);
  auto refresh = schedule.take(t0 + 1s + 20min);
  ASSERT_TRUE(refresh);
  EXPECT_FALSE(schedule.record(*refresh, keys(refresh->source == kUri ? R"({"keys":[]})" : R"({"keys":[1]})"), t0 + 21min))
      << "the same keys: no rebuild";
}

TEST(JwksSchedule, ANewSourceGoesBeforeRefreshesDue) {
  JwksSchedule schedule({20min, 1s});
  TimePoint t{};
  schedule.record(fetchOf(schedule, kUri, t), keys(), t);
  schedule.want({kUri, kDiscovery}, t + 30min);
  auto first = schedule.take(t + 30min);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->source.key(), kDiscovery.key()) << "never attempted: before the overdue refresh";
}

TEST(JwksSchedule, FailuresBackOffAndKeepTheLastKeysForAWeek) {
  JwksSchedule schedule({20min, 1s, 24h * 7});
  TimePoint t{};
  auto fetch = fetchOf(schedule, kUri, t);
  EXPECT_TRUE(schedule.record(fetch, failure("HTTP 503"), t)) << "the first failure is news (its note)";
  EXPECT_EQ(schedule.results().at(kUri.key()).error, "HTTP 503");
  EXPECT_EQ(schedule.nextDue(), t + 1s);
  EXPECT_FALSE(schedule.record(fetch, failure("timed out after 5001 ms"), t + 1s)) << "failing again, in other words: no rebuild";
  EXPECT_EQ(schedule.nextDue(), t + 1s + 2s);
  EXPECT_FALSE(schedule.record(fetch, failure("HTTP 503"), t + 3s));
  EXPECT_EQ(schedule.nextDue(), t + 3s + 4s);
  for (int i = 0; i < 40; ++i) schedule.record(fetch, failure("HTTP 503"), t);
  EXPECT_EQ(schedule.nextDue(), t + 20min) << "the back-off stops at the refresh interval, and does not overflow";

  EXPECT_TRUE(schedule.record(fetch, keys(), t));
  EXPECT_EQ(schedule.nextDue(), t + 20min);
  EXPECT_TRUE(schedule.record(fetch, failure("timed out"), t + 20min)) << "failing after working is news";
  auto fetched = schedule.results().at(kUri.key());
  EXPECT_EQ(fetched.jwks, R"({"keys":[]})") << "a failed refresh keeps the keys fetched before";
  EXPECT_EQ(fetched.error, "timed out");
  EXPECT_EQ(schedule.nextDue(), t + 20min + 1s) << "the back-off starts again after a success";
  EXPECT_FALSE(schedule.record(fetch, failure("timed out"), t + 24h * 6));
  EXPECT_EQ(schedule.results().at(kUri.key()).jwks, R"({"keys":[]})");
  EXPECT_TRUE(schedule.record(fetch, failure("timed out"), t + 24h * 7)) << "a week without a fetch that worked: the keys go";
  EXPECT_EQ(schedule.results().at(kUri.key()).jwks, "");
}

TEST(JwksSchedule, SourcesNoLongerWantedAreForgotten) {
  JwksSchedule schedule;
  TimePoint t{};
  auto fetch = fetchOf(schedule, kUri, t);
  schedule.want({kUri, kDiscovery}, t);
  schedule.record(fetch, keys(), t);
  EXPECT_TRUE(schedule.want({kDiscovery}, t)) << "the keys of a removed rule are dropped";
  EXPECT_EQ(schedule.results().count(kUri.key()), 0u);
  EXPECT_FALSE(schedule.record(fetch, keys(), t)) << "a fetch that ends after its rule went is ignored";
  EXPECT_FALSE(schedule.want({}, t)) << "the discovery source was never fetched: dropping it changes nothing the registry read";
  EXPECT_EQ(schedule.nextDue(), TimePoint::max()) << "nothing wanted: the resolver sleeps";
}

// A rule removed and added again while its fetch runs: the old fetch's outcome does not
// speak for the new entry (whose own fetch is due at once), nor end its in-flight state.
TEST(JwksSchedule, AFetchOutlivingItsEntryIsIgnored) {
  JwksSchedule schedule;
  TimePoint t{};
  auto old = fetchOf(schedule, kUri, t);
  schedule.want({}, t);
  schedule.want({kUri}, t);
  auto fresh = schedule.take(t);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(schedule.record(old, failure("HTTP 503"), t)) << "the old incarnation's failure";
  EXPECT_EQ(schedule.results().count(kUri.key()), 0u);
  EXPECT_FALSE(schedule.take(t)) << "the new fetch is still in flight";
  EXPECT_TRUE(schedule.record(*fresh, keys(), t));
  EXPECT_EQ(schedule.results().at(kUri.key()).jwks, R"({"keys":[]})");
}

TEST(JwksSchedule, OneFetchForRulesSharingAUrlWithTheLongerTimeout) {
  JwksSchedule schedule;
  TimePoint t{};
  JwksSource a = kUri, b = kUri;
  a.timeout = 2s;
  b.timeout = 9s;
  schedule.want({a, b}, t);
  auto taken = schedule.take(t);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->source.timeout, 9s);
  EXPECT_FALSE(schedule.take(t));
}

}  // namespace
}  // namespace weft::control
