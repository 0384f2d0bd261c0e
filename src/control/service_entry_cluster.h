#pragma once
// A route's destination that is a ServiceEntry host (Istio's egress and TLS-origination
// tasks route to these from gateways): the cluster's port, protocol and endpoints, as
// Istio's ServiceEntry conversion gives them to Envoy.
//  - Visibility: an entry is seen from the namespaces its `exportTo` names ("*" or none:
//    all, ".": its own). The namespace asking is the route's, not the proxy's as in Istio:
//    one cluster serves every gateway and waypoint.
//  - The port is a ServiceEntry port by number (a destination without one takes the only
//    port); its `targetPort` (else the number) is where endpoints listen, unless an
//    endpoint names its own port for that port's name.
//  - GRPC and HTTP2 ports are reached over HTTP/2, like such Service ports.
//  - STATIC and NONE endpoints are their IPv4 `address`es. Under DNS and DNS_ROUND_ROBIN,
//    IP literals are used as they are, and host names (or, when the entry lists no
//    endpoints, the host routed to) become DNS endpoints the proxy looks up itself and
//    keeps looking up, as Envoy's STRICT_DNS and LOGICAL_DNS clusters do: weftd's own view
//    of DNS is not the proxy's. DYNAMIC_DNS (each request's host) is noted, not built.
//  - workloadSelector: the ready pods of the entry's namespace with those labels, at the
//    port's targetPort (else its number); those enrolled in the mesh are reached over HBONE.
//    Other endpoints are outside the mesh: plain TCP, or the DestinationRule's tls.
//  - A subset's labels pick among the endpoints' `labels` and the selected pods' labels.
// Not built: WorkloadEntries, IPv6 and Unix-socket endpoints, wildcard hosts, DYNAMIC_DNS, and merging
// several entries that list one host (the first visible one is used).

#include <functional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "control/registry.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

// The ServiceEntry listing `host` that namespace `fromNamespace` may see, or null.
const model::Object* serviceEntryFor(const ObjectsByKind& objects, const std::string& host, const std::string& fromNamespace);

// `port`, or the entry's only port when `port` is 0 (a destination without a port).
uint32_t serviceEntryPort(const model::Object& entry, uint32_t port);

// What a workloadSelector chooses among: the pods, and the SPIFFE ID of one enrolled in
// the mesh (empty for one that is not).
struct ServiceEntryPods {
  const std::vector<model::Object>& pods;
  std::function<std::string(const model::Object& pod)> meshIdentity;
};

using ServiceEntryNote = std::function<void(const std::string& what)>;

// Fills protocol and endpoints for `port` of the entry (the DestinationRule is the
// caller's). `subsetLabels` null: every endpoint. False when the entry has no such port.
bool fillServiceEntryCluster(const model::Object& entry, uint32_t port, const boost::json::value* subsetLabels, const ServiceEntryPods& pods,
                             weft::v1::Cluster& cluster, const ServiceEntryNote& note);

}  // namespace weft::control
