#pragma once
// A VirtualService's tls[] and tcp[] rules compiled for one Gateway listener (weft.v1.TcpRoute),
// as Istio builds a gateway's TLS-passthrough and TCP filter chains, or for a waypoint's TCP
// Service port (scope kMeshScope: the rules whose matches name no gateways, or "mesh"):
// - a match with `port` takes only that server port; one with `gateways` only the Gateways
//   it names ("ns/name", or "name" in the VirtualService's namespace);
// - a tls[] match becomes one route per match block, its sniHosts narrowed to what the
//   listener's passthrough servers admit (a match none of them admits is not this
//   listener's);
// - a tcp[] rule becomes one route if any of its matches (or none written) takes the port.
// A match's sourceLabels and sourceNamespace become the route's sources at a Gateway (the
// proxy keeps the route when one describes its pod); in the mesh, and for
// destinationSubnets anywhere, such a match is left out with a note (ignoring it would widen
// the match). A rule without destinations is left out with a note.

#include <functional>
#include <string>
#include <vector>

#include "control/route_compiler.h"
#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

struct TcpRouteScope {
  std::string gatewayKey;  // "<ns>/<name>", or kMeshScope at a waypoint
  uint32_t port = 0;       // the server port
};

// The names of `sniHost` the listener's passthrough servers admit (each the narrower of the
// two when one is a wildcard); empty when none does.
using SniAdmits = std::function<std::vector<std::string>(const std::string& sniHost)>;

std::vector<weft::v1::TcpRoute> tlsRoutesFor(const RouteCompiler& routes, const model::Object& vs, const TcpRouteScope& scope,
                                             const SniAdmits& admits, const RouteCompiler::Note& note);
std::vector<weft::v1::TcpRoute> tcpRoutesFor(const RouteCompiler& routes, const model::Object& vs, const TcpRouteScope& scope,
                                             const RouteCompiler::Note& note);

}  // namespace weft::control
