#include "localcluster/cluster_network.h"

#include <functional>

#include "base/subprocess.h"
#include "localcluster/cluster_home.h"
#include "localcluster/netns.h"

namespace weft::localcluster {
namespace {

Status ipBatch(const std::string& netns, const std::string& commands) {
  return runChecked({"ip", "-n", netns, "-batch", "-"}, commands);
}

// Base chains, made once; the Service proxy rewrites WEFT-SERVICES and its per-Service
// chains on every change. Marked connections are masqueraded: a pod reaching itself
// through its own Service would otherwise get a reply from its own address.
constexpr const char* kBaseRules =
    "*nat\n"
    ":WEFT-SERVICES - [0:0]\n"
    ":WEFT-POSTROUTING - [0:0]\n"
    "-A PREROUTING -j WEFT-SERVICES\n"
    "-A OUTPUT -j WEFT-SERVICES\n"
    "-A POSTROUTING -j WEFT-POSTROUTING\n"
    "-A WEFT-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\n"
    "COMMIT\n"
    "*filter\n"
    ":WEFT-NO-ENDPOINTS - [0:0]\n"
    "-A INPUT -j WEFT-NO-ENDPOINTS\n"
    "-A FORWARD -j WEFT-NO-ENDPOINTS\n"
    "-A OUTPUT -j WEFT-NO-ENDPOINTS\n"
    "COMMIT\n";

Status configureClusterNetwork(const ClusterConfig& config, const std::string& netns) {
  // A bridge without an address of its own takes the lowest of its ports' MACs, so it
  // changed whenever a pod came or went, and every pod's ARP entry for its gateway went
  // stale: established flows stalled until the pods re-resolved it. A fixed, locally
  // administered MAC (02:...) keeps the gateway where the pods last saw it.
  size_t h = std::hash<std::string>{}(config.name);
  std::string mac = fmt::format("02:77:{:02x}:{:02x}:{:02x}:{:02x}", (h >> 24) & 0xff, (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
  std::string commands = fmt::format("link set lo up\nlink add {0} type bridge\nlink set {0} address {3}\naddr add {1}/{2} dev {0}\n",
                                     kBridgeName, bridgeAddress(config).str(), config.podCidr.prefix, mac);
  for (const auto& node : nodesOf(config)) commands += fmt::format("addr add {}/32 dev {}\n", node.address.str(), kBridgeName);
  commands += fmt::format("link set {} up\n", kBridgeName);
  // hostNetwork pods (ztunnel) live here and dial Services too: the Service range needs a
  // route for the connect to start at all, then the OUTPUT chain rewrites it to a pod.
  commands += fmt::format("route add {} dev {}\n", config.serviceCidr.str(), kBridgeName);
  WEFT_TRY(ipBatch(netns, commands));
  // Forwarding between pods happens inside this namespace only; the host's setting is
  // untouched. Redirects are off because pods are reached back out of the same bridge.
  WEFT_TRY(runChecked({"ip", "netns", "exec", netns, "sh", "-c",
                       "echo 1 > /proc/sys/net/ipv4/ip_forward && "
                       "echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects && "
                       "echo 0 > /proc/sys/net/ipv4/conf/weft0/send_redirects"}));
  return runChecked({"ip", "netns", "exec", netns, "iptables-restore", "--noflush"}, kBaseRules);
}

}  // namespace

Status createClusterNetwork(const ClusterConfig& config) {
  std::string netns = clusterNetnsName(config.name);
  WEFT_TRY(createNetns(netns));
  if (auto status = configureClusterNetwork(config, netns); !status) {
    (void)deleteNetns(netns);
    return status.error().wrap("setting up the cluster network");
  }
  return {};
}

std::string hostVethName(const std::string& podNetns) {
  return fmt::format("wv{:012x}", std::hash<std::string>{}(podNetns) & 0xffffffffffffULL);
}

Status createPodSandbox(const ClusterConfig& config, const PodSandbox& sandbox) {
  std::string cluster = clusterNetnsName(config.name);
  std::string veth = hostVethName(sandbox.netns);
  if (netnsExists(sandbox.netns)) WEFT_TRY(deleteNetns(sandbox.netns));  // left by a runtime that died
  WEFT_TRY(createNetns(sandbox.netns));
  std::string gateway = bridgeAddress(config).str();
  // Addresses are reused: a neighbour entry left by the address's previous pod would send
  // the first packets (kubelet's probes, Service traffic) to a MAC that is gone, for as long
  // as the kernel takes to give up on it.
  Status status = ipBatch(cluster, fmt::format("neigh flush to {3}\nlink add {0} type veth peer name eth0 netns {1}\nlink set {0} master {2} up\n",
                                               veth, sandbox.netns, kBridgeName, sandbox.address.str()));
  if (status) {
    status = ipBatch(sandbox.netns, fmt::format("link set lo up\naddr add {0}/32 dev eth0\nlink set eth0 up\n"
                                                "route add {1} dev eth0 scope link\nroute add default via {1} dev eth0\n",
                                                sandbox.address.str(), gateway));
  }
  if (!status) {
    (void)deletePodSandbox(sandbox);
    return status.error().wrap("pod network " + sandbox.netns);
  }
  return {};
}

// The veth pair goes with the namespace: deleting the pod end deletes the bridge end.
Status deletePodSandbox(const PodSandbox& sandbox) { return deleteNetns(sandbox.netns); }

}  // namespace weft::localcluster
