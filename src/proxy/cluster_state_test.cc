#include "proxy/cluster_state.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace weft::proxy {
namespace {

using Clock = ClusterState::Clock;

weft::v1::Cluster clusterWith(int endpoints, weft::v1::LoadBalancer::Policy policy = weft::v1::LoadBalancer::ROUND_ROBIN) {
  weft::v1::Cluster c;
  c.set_name("outbound|8000||svc");
  for (int i = 0; i < endpoints; ++i) c.add_endpoints("198.18.2." + std::to_string(i + 2) + ":8080");
  c.mutable_load_balancer()->set_policy(policy);
  return c;
}

TEST(ClusterState, RoundRobinVisitsEveryEndpointInTurn) {
  ClusterState state;
  auto cluster = clusterWith(3);
  std::minstd_rand random(1);
  auto now = Clock::now();
  std::vector<std::string> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(state.pick(cluster, std::nullopt, random, now));
  EXPECT_EQ(seen[0], seen[3]);
  EXPECT_EQ(seen[1], seen[4]);
  EXPECT_EQ((std::set<std::string>{seen[0], seen[1], seen[2]}).size(), 3u);
}

TEST(ClusterState, LeastRequestPrefersTheIdleEndpoint) {
  ClusterState state;
  auto cluster = clusterWith(2, weft::v1::LoadBalancer::LEAST_REQUEST);
  std::minstd_rand random(7);
  for (int i = 0; i < 5; ++i) state.started(cluster.endpoints(0));
  // With two endpoints the two choices are always both of them.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(state.pick(cluster, std::nullopt, random, Clock::now()), cluster.endpoints(1));
}

TEST(ClusterState, RandomUsesEveryEndpoint) {
  ClusterState state;
  auto cluster = clusterWith(3, weft::v1::LoadBalancer::RANDOM);
  std::minstd_rand random(3);
  std::map<std::string, int> counts;
  for (int i = 0; i < 300; ++i) ++counts[state.pick(cluster, std::nullopt, random, Clock::now())];
  EXPECT_EQ(counts.size(), 3u);
}

TEST(ClusterState, ConsistentHashKeepsAKeyOnOneEndpointAndMovesFewKeysWhenOneIsAdded) {
  ClusterState state;
  auto cluster = clusterWith(4, weft::v1::LoadBalancer::CONSISTENT_HASH);
  std::minstd_rand random(5);
  std::map<std::string, std::string> before;
  for (int k = 0; k < 200; ++k) {
    std::string key = "user-" + std::to_string(k);
    before[key] = state.pick(cluster, key, random, Clock::now());
    EXPECT_EQ(state.pick(cluster, key, random, Clock::now()), before[key]);
  }
  std::set<std::string> used;
  for (auto& [k, e] : before) used.insert(e);
  EXPECT_EQ(used.size(), 4u);
  cluster.add_endpoints("198.18.2.99:8080");
  int moved = 0;
  for (auto& [key, endpoint] : before) {
    auto now = state.pick(cluster, key, random, Clock::now());
    if (now != endpoint) {
      ++moved;
      EXPECT_EQ(now, "198.18.2.99:8080") << "a key moved between two old endpoints";
    }
  }
  EXPECT_GT(moved, 10);   // about a fifth of 200
  EXPECT_LT(moved, 80);
}

TEST(ClusterState, OutlierDetectionEjectsAfterConsecutive5xxForBaseTimesCount) {
  ClusterState state;
  auto cluster = clusterWith(2);
  auto* od = cluster.mutable_outlier_detection();
  od->set_consecutive_5xx(3);
  od->set_base_ejection_ms(1000);
  od->set_max_ejection_percent(50);
  auto t0 = Clock::now();
  const std::string& bad = cluster.endpoints(0);
  EXPECT_FALSE(state.finished(cluster, bad, 500, t0));
  EXPECT_FALSE(state.finished(cluster, bad, 200, t0));  // a success resets the count
  EXPECT_FALSE(state.finished(cluster, bad, 503, t0));
  EXPECT_FALSE(state.finished(cluster, bad, 502, t0));
  EXPECT_TRUE(state.finished(cluster, bad, 500, t0));
  EXPECT_TRUE(state.ejected(bad, t0 + std::chrono::milliseconds(999)));
  EXPECT_FALSE(state.ejected(bad, t0 + std::chrono::milliseconds(1001)));
  std::minstd_rand random(1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(state.pick(cluster, std::nullopt, random, t0), cluster.endpoints(1));
  // Ejected a second time: twice the base time.
  auto t1 = t0 + std::chrono::seconds(2);
  for (int i = 0; i < 3; ++i) state.finished(cluster, bad, 500, t1);
  EXPECT_TRUE(state.ejected(bad, t1 + std::chrono::milliseconds(1999)));
  EXPECT_FALSE(state.ejected(bad, t1 + std::chrono::milliseconds(2001)));
  EXPECT_EQ(state.ejections(), 2u);
}

TEST(ClusterState, MaxEjectionPercentAlwaysAllowsOneAndPanicUsesAll) {
  ClusterState state;
  auto cluster = clusterWith(2);
  auto* od = cluster.mutable_outlier_detection();
  od->set_consecutive_gateway_errors(1);
  od->set_base_ejection_ms(60000);
  od->set_max_ejection_percent(10);  // 10% of 2 rounds to 0; one may still go
  auto now = Clock::now();
  EXPECT_TRUE(state.finished(cluster, cluster.endpoints(0), 503, now));
  EXPECT_FALSE(state.finished(cluster, cluster.endpoints(1), 504, now));
  EXPECT_FALSE(state.ejected(cluster.endpoints(1), now));
  od->set_max_ejection_percent(100);
  EXPECT_TRUE(state.finished(cluster, cluster.endpoints(1), 502, now));
  // Every endpoint ejected: traffic goes to all rather than none.
  std::minstd_rand random(1);
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) seen.insert(state.pick(cluster, std::nullopt, random, now));
  EXPECT_EQ(seen.size(), 2u);
}

TEST(ClusterState, WithoutOutlierDetectionNothingIsEjected) {
  ClusterState state;
  auto cluster = clusterWith(1);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(state.finished(cluster, cluster.endpoints(0), 503, Clock::now()));
}

}  // namespace
}  // namespace weft::proxy
