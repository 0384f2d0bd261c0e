#pragma once
// The TCP routes of a waypoint's Service port that is relayed as bytes (a declared non-HTTP
// protocol), or may be (no declared protocol): what Istio's waypoint gives its tcp_proxy.
// In order of precedence, as for HTTP ports (gamma_routes.h):
//   1. a TCPRoute whose parentRef is the Service (GAMMA) and takes the port: the oldest
//      (creationTimestamp, then namespace and name); any other is noted and not applied. Its first rule only (a TCPRoute
//      has no matches, so later rules could never be picked); a refused backendRef keeps
//      its weight and its share of connections is closed.
//   2. the tls[] and tcp[] rules of the mesh VirtualServices for the Service that take the
//      port (gateway_tcp_routes.h, scope "mesh"): tls[] routes carry their sniHosts and
//      come first (the proxy picks one by the ClientHello's SNI), then the tcp[] routes for
//      connections no tls[] route names;
//   3. for connections no rule takes, the Service's own endpoints (Istio's default).

#include <functional>
#include <string>
#include <vector>

#include "control/gamma_routes.h"
#include "control/httproute_compiler.h"
#include "control/route_compiler.h"
#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

struct WaypointTcpPort {
  const weft::v1::Service& service;
  uint32_t port = 0;
  // The cluster of the Service's own endpoints on this port, made only if asked for.
  std::function<std::string()> defaultCluster;
};

struct WaypointTcpSources {
  const std::vector<MeshRouteAttachment>& tcpRoutes;  // TCPRoutes attached to the Service
  const std::vector<const model::Object*>& virtualServices;
  const RouteCompiler& routes;               // VirtualService destinations, the port's clusters
  RouteCompiler::ClusterFor clusterFor;      // a TCPRoute backend's cluster
  HttpRouteCompiler::ResolveBackend resolve; // what a TCPRoute backendRef names
  RouteCompiler::Note note;
};

std::vector<weft::v1::TcpRoute> waypointTcpRoutes(const WaypointTcpPort& port, const WaypointTcpSources& sources);

}  // namespace weft::control
