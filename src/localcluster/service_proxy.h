#pragma once
// kube-proxy for the local cluster, as pure functions: ClusterIP allocation, Endpoints
// from ready pods, the iptables rules that spread connections to a ClusterIP over the
// ready endpoints, and the names a pod's hosts file gives each Service.

#include <boost/json/value.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/ipv4.h"
#include "model/object.h"

namespace weft::localcluster {

// A ClusterIP for a Service that has none: a stable pick from the Service range derived
// from namespace/name (so re-creating a Service keeps its address), probing past `used`.
// The network address, .1 (Kubernetes' own Service), .10 (cluster DNS) and the last
// address are never handed out.
std::optional<Ipv4Address> allocateClusterIp(const Ipv4Cidr& range, const std::string& ns, const std::string& name,
                                             const std::set<uint32_t>& used);

// The Endpoints object for a Service with a selector, from the pods of its namespace:
// ready pods in `addresses`, the rest in `notReadyAddresses`; a named targetPort is
// resolved per pod through its container ports.
boost::json::value endpointsFor(const model::Object& service, const std::vector<model::Object>& pods);

struct ServiceEndpoint {
  std::string ip;
  int port = 0;
};
struct ServicePortRule {
  std::string ns, name, portName;
  std::string clusterIp;
  int port = 0;
  std::string protocol;  // "tcp", "udp", "sctp"
  std::vector<ServiceEndpoint> endpoints;  // ready only
};

// The ports of every Service with a ClusterIP, with their ready endpoints, from Services
// and their Endpoints objects.
std::vector<ServicePortRule> servicePortRules(const std::vector<model::Object>& services, const std::vector<model::Object>& endpoints);

// iptables-restore input (--noflush) that replaces every WEFT-SVC-/WEFT-SEP- chain and the
// WEFT-SERVICES / WEFT-NO-ENDPOINTS dispatch chains; `staleChains` are deleted.
std::string renderServiceRules(const std::vector<ServicePortRule>& rules, const std::set<std::string>& staleChains);
// The per-Service chains a rule set uses (to know which become stale next time).
std::set<std::string> serviceChains(const std::vector<ServicePortRule>& rules);
// WEFT-SVC-/WEFT-SEP- chain names in iptables-save output.
std::set<std::string> chainsInSave(std::string_view saved);

struct HostEntry {
  std::string ip;
  std::vector<std::string> names;
};
// Name -> address lines for a pod in `podNs`: every Service as name.ns, name.ns.svc and
// name.ns.svc.cluster.local, and the short name for Services in the pod's own namespace.
// A headless Service (clusterIP None) resolves to its ready endpoints.
std::vector<HostEntry> serviceHostEntries(const std::vector<model::Object>& services, const std::vector<model::Object>& endpoints,
                                          const std::string& podNs);
std::string renderHostsFile(const std::string& podIp, const std::string& podName, const std::vector<HostEntry>& services);

}  // namespace weft::localcluster
