#pragma once
// The waypoint's part of the proxy view: for every Service whose traffic goes through a
// waypoint (istio.io/use-waypoint, already resolved into the registry's Service resources),
// one Listener and one RouteConfiguration per Service port, and the AuthorizationPolicies
// attached by targetRefs (the only ones a waypoint enforces, as in Istio).
//
// A waypoint is keyed like the registry keys it, "<ns>/<Gateway name>". Its pods carry
// gateway.networking.k8s.io/gateway-name=<name> (what ztunnel sends the traffic to, and
// what the gateway deployer renders); each listener selects on that label, and the proxy
// keeps only those of its own namespace.
//
// Routes: the VirtualServices whose hosts name the Service (short names resolved in the
// VirtualService's namespace) and that are bound to the mesh (`gateways` empty or listing
// `mesh`), in creation-time order; with none, one default route to the Service's port, as
// Istio's waypoint does (with Istio's default retries). As in Istio, once a VirtualService
// covers the Service a request none of its routes matches answers 404.
//
// GAMMA: HTTPRoutes and GRPCRoutes whose parentRefs name the Service (gamma_routes.h) come
// ahead of VirtualServices: with any attached, the Service's VirtualServices are not
// applied here (Istio selects the Gateway API's routes first and its waypoint serves the
// first selection), and each port gets the routes that cover it, ordered together by the
// Gateway API's precedence, else the default route. GRPCRoute backends are reached over
// HTTP/2.
//
// Names: listener and route configuration "<waypoint ns>/<waypoint name>/<service host>:<port>";
// clusters as the Gateways' ("outbound|<port>|<subset>|<host>").

#include <string>
#include <vector>

#include "control/registry.h"
#include "control/route_compiler.h"

namespace weft::control {

// The label on a waypoint's pods naming its Gateway (Istio's and the Gateway API's).
inline constexpr const char* kWaypointGatewayNameLabel = "gateway.networking.k8s.io/gateway-name";

// Needs the registry's Service resources in `build` (addServices runs first).
void addWaypointView(const ObjectsByKind& objects, RegistryBuild& build, const RouteCompiler::ClusterFor& clusterFor);

}  // namespace weft::control
