#pragma once
// The proxy view of the Kubernetes Gateway API: every Gateway of class `istio` becomes
// Listener and RouteConfiguration resources, with the HTTPRoutes attached to its
// listeners compiled by httproute_compiler.cc into the Route shapes VirtualServices
// compile to, and routes to clusters made the way VirtualService destinations make them.
//
// Attachment follows the Gateway API: a parentRef names the Gateway (its namespace
// defaulting to the route's) and optionally a listener by sectionName and/or port; the
// listener's allowedRoutes (namespaces Same by default, All, or a Selector on the route's
// namespace labels; kinds) must admit the route; the route's hostnames are intersected
// with the listener's hostname, and a route with no hostname in common is not attached.
// Routes of one host are ordered by the Gateway API's precedence. A request for a host no
// route serves gets 404 (NR), as for Istio Gateways.
//
// Names: listener "gateway.networking.k8s.io/<ns>/<name>/<port>", route configuration
// ".../http.<port>", Listener.gateway "gateway.networking.k8s.io/<ns>/<name>" (so nothing
// written for an Istio Gateway of the same name, such as a RateLimitPolicy, applies).
// The listener selects the pods the gateway deployer renders for the Gateway
// (install/managed_gateway_objects.h) and binds the listener port itself.

#include <string>
#include <vector>

#include "control/registry.h"
#include "control/route_compiler.h"

namespace weft::control {

// The kinds the Gateway API view reads beyond the proxy view's.
const std::vector<std::string>& gatewayApiViewKinds();

void addGatewayApiView(const ObjectsByKind& objects, RegistryBuild& build, const RouteCompiler::ClusterFor& clusterFor);

}  // namespace weft::control
