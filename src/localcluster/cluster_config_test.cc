#include "localcluster/cluster_config.h"

#include <gtest/gtest.h>

#include "localcluster/cluster_home.h"

namespace weft::localcluster {
namespace {

ClusterConfig config(std::string name, std::string pods = "198.18.0.0/16", std::string services = "198.19.0.0/16", int nodes = 2) {
  return ClusterConfig{std::move(name), nodes, *Ipv4Cidr::parse(pods), *Ipv4Cidr::parse(services), "2026-01-01T00:00:00Z"};
}

std::string errorOf(const ClusterConfig& c, const std::vector<ClusterConfig>& others = {}) {
  auto status = checkNewCluster(c, others);
  return status ? "" : status.error().message;
}

TEST(ClusterConfig, NodesTakeKindNamesAndSlices) {
  auto nodes = nodesOf(config("istio-cluster", "198.18.0.0/16", "198.19.0.0/16", 3));
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].name, "istio-cluster-control-plane");
  EXPECT_EQ(nodes[1].name, "istio-cluster-worker");
  EXPECT_EQ(nodes[2].name, "istio-cluster-worker2");
  EXPECT_EQ(nodes[0].address.str(), "198.18.0.2");
  EXPECT_EQ(nodes[1].address.str(), "198.18.0.3");
  EXPECT_EQ(nodes[0].podSlice.str(), "198.18.1.0/24");
  EXPECT_EQ(nodes[2].podSlice.str(), "198.18.3.0/24");
  EXPECT_EQ(bridgeAddress(config("a")).str(), "198.18.0.1");
}

TEST(ClusterConfig, AcceptsTheDefaultsAndTwoClustersApart) {
  EXPECT_EQ(errorOf(config("istio-cluster")), "");
  auto east = config("east", "198.18.0.0/17", "198.19.0.0/17");
  EXPECT_EQ(errorOf(config("west", "198.18.128.0/17", "198.19.128.0/17"), {east}), "");
}

TEST(ClusterConfig, RefusesBadNames) {
  EXPECT_NE(errorOf(config("Istio_Cluster")).find("invalid cluster name \"Istio_Cluster\""), std::string::npos);
  EXPECT_NE(errorOf(config("")).find("invalid cluster name"), std::string::npos);
  EXPECT_NE(errorOf(config(std::string(41, 'a'))).find("at most 40 characters"), std::string::npos);
}

TEST(ClusterConfig, RefusesRangesOutsideTheBenchmarkBlock) {
  EXPECT_EQ(errorOf(config("a", "10.0.0.0/16")),
            "--pod-cidr 10.0.0.0/16 is outside 198.18.0.0/15: local clusters use only that block, which is never routed");
  EXPECT_NE(errorOf(config("a", "198.18.0.0/16", "192.168.0.0/16")).find("--service-cidr 192.168.0.0/16 is outside"), std::string::npos);
}

TEST(ClusterConfig, RefusesOverlapsAndSmallRanges) {
  EXPECT_EQ(errorOf(config("a", "198.18.0.0/16", "198.18.128.0/17")), "--pod-cidr 198.18.0.0/16 overlaps --service-cidr 198.18.128.0/17");
  EXPECT_EQ(errorOf(config("b"), {config("a")}),
            "198.18.0.0/16 overlaps 198.18.0.0/16 of cluster \"a\"; give this cluster other ranges with --pod-cidr and --service-cidr");
  EXPECT_NE(errorOf(config("a", "198.18.0.0/23")).find("too small for 2 nodes"), std::string::npos);
  EXPECT_NE(errorOf(config("a", "198.18.0.0/16", "198.19.0.0/30")).find("too small"), std::string::npos);
  auto many = config("a");
  many.nodes = 17;
  EXPECT_EQ(errorOf(many), "--nodes must be between 1 and 16");
}

TEST(ClusterConfig, JsonRoundTrip) {
  auto original = config("istio-cluster");
  auto read = ClusterConfig::fromJson(original.toJson());
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->name, "istio-cluster");
  EXPECT_EQ(read->nodes, 2);
  EXPECT_EQ(read->podCidr, original.podCidr);
  EXPECT_EQ(read->serviceCidr, original.serviceCidr);
  EXPECT_FALSE(ClusterConfig::fromJson("{"));
  EXPECT_FALSE(ClusterConfig::fromJson(R"({"name":"a","nodes":2,"podCidr":"x","serviceCidr":"198.19.0.0/16"})"));
}

TEST(ClusterHome, NamespaceNames) {
  EXPECT_EQ(clusterNetnsName("istio-cluster"), "weft-istio-cluster");
  EXPECT_EQ(podNetnsName("c", "default", "httpbin-1"), "weft-c.default.httpbin-1");
  EXPECT_LE(podNetnsName("c", "default", std::string(250, 'p')).size(), 40u);
  EXPECT_TRUE(netnsBelongsTo("weft-a", "a"));
  EXPECT_TRUE(netnsBelongsTo("weft-a.default.x", "a"));
  EXPECT_FALSE(netnsBelongsTo("weft-a-b", "a"));
  EXPECT_FALSE(netnsBelongsTo("weft-ab.default.x", "a"));
}

}  // namespace
}  // namespace weft::localcluster
