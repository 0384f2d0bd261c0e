#pragma once
// The cluster's network, all of it inside the cluster's own namespace (like a kind node
// container): a bridge holding the gateway and node addresses, IP forwarding on in there
// only, and the base iptables chains the Service proxy fills. There is no link out of the
// namespace, so nothing in the cluster can reach, or be routed to, the host's networks.

#include <string>

#include "base/ipv4.h"
#include "localcluster/cluster_config.h"

namespace weft::localcluster {

inline constexpr const char* kBridgeName = "weft0";

// Makes the namespace and everything in it; on failure removes what it made.
Status createClusterNetwork(const ClusterConfig& config);

// A pod's sandbox: its namespace, a veth pair (eth0 inside, the other end on the bridge),
// a /32 address and a default route through the bridge. Every packet between pods thus
// passes the cluster namespace's routing and conntrack, which Service NAT relies on.
struct PodSandbox {
  std::string netns;
  Ipv4Address address;
};

Status createPodSandbox(const ClusterConfig& config, const PodSandbox& sandbox);
Status deletePodSandbox(const PodSandbox& sandbox);

// The bridge end of a pod's veth pair, unique within the cluster namespace.
std::string hostVethName(const std::string& podNetns);

}  // namespace weft::localcluster
