#pragma once
// What a local cluster is: a name, its node count and its two address ranges, and the
// layout derived from them (nodes, their addresses and pod slices, the bridge address).
// Kept as <home>/clusters/<name>/cluster.json.

#include <string>
#include <vector>

#include "base/ipv4.h"
#include "base/result.h"

namespace weft::localcluster {

struct ClusterConfig {
  std::string name;
  int nodes = 2;
  Ipv4Cidr podCidr;
  Ipv4Cidr serviceCidr;
  std::string created;  // RFC 3339

  std::string toJson() const;
  static Result<ClusterConfig> fromJson(std::string_view text);
};

// Every local cluster lives inside this block (RFC 2544's benchmarking range), which no
// real network routes, and nothing in a cluster is routed out of its namespace anyway.
inline constexpr std::string_view kClusterAddressSpace = "198.18.0.0/15";
inline constexpr int kNodeSlicePrefix = 24;  // each node's share of the pod range, as kube-controller-manager gives
inline constexpr int kMaxNodes = 16;
inline constexpr int kMaxNameLength = 40;

// A node: where pods are placed. The pod range's first /24 holds the bridge (.1) and the
// node addresses (.2, .3, ...); node i takes pod addresses from the (i+1)th /24.
struct NodeInfo {
  std::string name;  // kind's names: NAME-control-plane, NAME-worker, NAME-worker2, ...
  Ipv4Address address;
  Ipv4Cidr podSlice;
};

std::vector<NodeInfo> nodesOf(const ClusterConfig& config);
inline Ipv4Address bridgeAddress(const ClusterConfig& config) { return config.podCidr.at(1); }

// Checks a cluster about to be made: the name, the node count, the ranges (inside
// kClusterAddressSpace, large enough, apart from each other and from `others`).
Status checkNewCluster(const ClusterConfig& config, const std::vector<ClusterConfig>& others);

}  // namespace weft::localcluster
