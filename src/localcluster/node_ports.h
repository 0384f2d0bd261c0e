#pragma once
// NodePorts for the local cluster, as pure functions: which port of which NodePort or
// LoadBalancer Service gets which node port, and what the runtime writes back into the
// Service (spec.ports[].nodePort, status.loadBalancer). The API server allocates node
// ports on Kubernetes; here the store accepts any Service, so conflicts are settled by
// age (the older Service keeps a port) and a refused port is reported, never exposed.

#include <boost/json/value.hpp>

#include <string>
#include <vector>

#include "model/object.h"

namespace weft::localcluster {

inline constexpr int kNodePortMin = 30000;
inline constexpr int kNodePortMax = 32767;
// What `weft get svc` shows as EXTERNAL-IP of a LoadBalancer: its node ports are served
// on the host's loopback, as kind's extraPortMappings with a cloud load balancer would.
inline constexpr const char* kLoadBalancerIp = "127.0.0.1";

// Type NodePort or LoadBalancer: the Service types that get node ports.
bool usesNodePorts(const model::Object& service);

struct NodePortAssignment {
  std::string ns, name;
  size_t portIndex = 0;  // into spec.ports
  int port = 0;          // the Service port
  std::string protocol;  // "TCP", "UDP", "SCTP"
  int nodePort = 0;

  bool operator==(const NodePortAssignment&) const = default;
};

struct NodePortAllocation {
  std::vector<NodePortAssignment> assigned;
  // One line per Service port that asked for a node port it cannot have.
  std::vector<std::string> refused;
};

// Node ports for every port of every NodePort and LoadBalancer Service. A port keeps the
// nodePort its spec gives when that is in range and free, else it is refused. One
// without gets the port `previous` gave it (a re-applied Service drops the field, as
// `kubectl apply` would not), else a stable pick derived from namespace/name/port. Older
// Services claim first; one number serves TCP and UDP of the same Service.
NodePortAllocation allocateNodePorts(const std::vector<model::Object>& services, const std::vector<NodePortAssignment>& previous);

// The Service's spec with spec.ports[].nodePort as allocated: set where assigned, kept
// where refused (the user's value, shown as asked), dropped for types without node ports.
boost::json::value specWithNodePorts(const model::Object& service, const NodePortAllocation& allocation);
// status.loadBalancer: the loopback ingress for a LoadBalancer, empty for anything else.
boost::json::value loadBalancerStatus(const model::Object& service);

}  // namespace weft::localcluster
