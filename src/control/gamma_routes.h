#pragma once
// GAMMA, the Gateway API's mesh attachment: an HTTPRoute (or GRPCRoute) whose parentRefs name a Service
// (`group: ""`, `kind: Service`) routes the traffic sent to that Service. In ambient mode
// Istio applies such routes only at the waypoint that serves the Service, so this is read
// by the waypoint view alone (waypoint_view.cc); a Service without a waypoint gets nothing.
//
// Semantics follow Istio's conversion (pilot/pkg/config/kube/gateway/conversion.go,
// buildHTTPVirtualServices with a mesh parent, and the waypoint's route selection in
// pilot/pkg/networking/core/waypoint.go):
//   - The route's `hostnames` are ignored: the parent Service is the host.
//   - A parentRef `port` restricts the route to that Service port; without one it applies
//     to every port. A parentRef without `namespace` means the route's namespace.
//   - A waypoint applies only routes in its own namespace or the Service's (Istio's
//     getVirtualServiceForWaypoint): a "consumer" route elsewhere applies to nothing here.
//   - Cross-namespace backendRefs need no ReferenceGrant for mesh parents (Istio converts
//     mesh routes with enforceRefGrant=false).
//   - Routes of several HTTPRoutes on one Service are ordered as the Gateway API orders them
//     (RoutePrecedence, the same as for Gateways).

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "control/httproute_compiler.h"
#include "control/registry.h"

namespace weft::control {

struct MeshRouteAttachment {
  const model::Object* route = nullptr;
  std::set<uint32_t> ports;  // the Service ports it applies to; empty: every port
};

inline constexpr const char* kMeshHttpRouteKind = "HTTPRoute.gateway.networking.k8s.io";
inline constexpr const char* kMeshGrpcRouteKind = "GRPCRoute.gateway.networking.k8s.io";
// A TCPRoute with a Service parent: the Service's TCP ports at its waypoint (waypoint_tcp_routes.h).
inline constexpr const char* kMeshTcpRouteKind = "TCPRoute.gateway.networking.k8s.io";

// Whether a parentRef names a core Service: its group "" and its kind Service, both
// written (the Gateway API defaults them to the Gateway's).
bool parentRefNamesService(const boost::json::value& ref);

// The routes of `kind` (HTTPRoute, GRPCRoute or TCPRoute: the same attachment rules) attached to
// Service `serviceNs/serviceName` that a waypoint in `waypointNs` applies, in store order
// (the compiled routes are sorted by precedence afterwards).
std::vector<MeshRouteAttachment> meshRoutesFor(const ObjectsByKind& objects, const std::string& serviceNs, const std::string& serviceName,
                                               const std::string& waypointNs, const char* kind = kMeshHttpRouteKind);

// What a mesh route's backendRef names: a core Service (existing or not), or refused.
// `services` holds "<ns>/<name>" of every Service.
ResolvedBackend resolveMeshBackend(const std::set<std::string>& services, const model::Object& route, const boost::json::value& ref);

}  // namespace weft::control
