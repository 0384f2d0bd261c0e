#include "control/waypoint_tcp_routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "control/gateway_tcp_routes.h"
#include "model/json_access.h"

namespace weft::control {

using model::arrayAt;
using model::at;
using model::intAt;
using model::Object;
using model::stringAt;

namespace {

// The TCPRoute that takes `port`, or null; the others that would are noted. The oldest
// wins, then by namespace and name (the Gateway API's rule for conflicting routes).
const Object* tcpRouteFor(const WaypointTcpPort& port, const WaypointTcpSources& sources) {
  std::vector<const MeshRouteAttachment*> ordered;
  for (const auto& attachment : sources.tcpRoutes) ordered.push_back(&attachment);
  auto age = [](const MeshRouteAttachment* a) {
    return std::make_tuple(stringAt(a->route->value(), {"metadata", "creationTimestamp"}), a->route->ns(), a->route->name());
  };
  std::stable_sort(ordered.begin(), ordered.end(), [&](const auto* a, const auto* b) { return age(a) < age(b); });
  const Object* chosen = nullptr;
  for (const auto* attachmentPointer : ordered) {
    const auto& attachment = *attachmentPointer;
    if (!attachment.ports.empty() && !attachment.ports.contains(port.port)) continue;
    if (chosen != nullptr) {
      sources.note(*attachment.route, fmt::format("TCPRoute {}/{} already takes port {} of Service {} (the first takes every connection): not applied",
                                                   chosen->ns(), chosen->name(), port.port, port.service.hostname()));
      continue;
    }
    chosen = attachment.route;
  }
  return chosen;
}

weft::v1::TcpRoute compileTcpRoute(const Object& route, const WaypointTcpPort& port, const WaypointTcpSources& sources) {
  weft::v1::TcpRoute out;
  out.set_name(fmt::format("{}/{}/rule.0", route.ns(), route.name()));
  const auto& rules = arrayAt(route.value(), {"spec", "rules"});
  if (rules.empty()) return out;  // no backend: its connections are closed
  if (rules.size() > 1) sources.note(route, "only the first rule is served: the others could never be picked (a TCPRoute has no matches)");
  for (const auto& ref : arrayAt(rules[0], {"backendRefs"})) {
    auto weight = at(ref, {"weight"}).is_int64() ? intAt(ref, {"weight"}) : 1;
    if (weight <= 0) continue;
    auto* cluster = out.add_clusters();
    cluster->set_weight(static_cast<uint32_t>(weight));
    ResolvedBackend backend = sources.resolve(route, ref);
    if (backend.state == ResolvedBackend::State::kRefused) {
      sources.note(route, fmt::format("backendRef {}: {}: its share of connections is closed", stringAt(ref, {"name"}), backend.why));
      continue;
    }
    if (backend.state == ResolvedBackend::State::kMissingService) sources.note(route, fmt::format("backendRef {}: {}", stringAt(ref, {"name"}), backend.why));
    // A backendRef to the Service itself without a port means the port connected to.
    auto refPort = static_cast<uint32_t>(intAt(ref, {"port"}));
    if (refPort == 0 && backend.host == port.service.hostname()) refPort = port.port;
    cluster->set_cluster(sources.clusterFor(route, backend.host, refPort, ""));
  }
  return out;
}

}  // namespace

std::vector<weft::v1::TcpRoute> waypointTcpRoutes(const WaypointTcpPort& port, const WaypointTcpSources& sources) {
  std::vector<weft::v1::TcpRoute> out;
  if (const Object* route = tcpRouteFor(port, sources)) {
    for (const Object* vs : sources.virtualServices) {
      if (arrayAt(vs->value(), {"spec", "tcp"}).empty()) continue;
      sources.note(*vs, fmt::format("TCPRoute {}/{} takes port {} of Service {} at its waypoint: tcp[] not applied there", route->ns(),
                                    route->name(), port.port, port.service.hostname()));
    }
    out.push_back(compileTcpRoute(*route, port, sources));
    return out;
  }
  // tls[] rules first (the proxy picks among them by the ClientHello's SNI, the most
  // specific name winning), then tcp[] rules or the Service for every other connection, as
  // Envoy's filter chains without server names catch what the named ones do not.
  const TcpRouteScope scope{kMeshScope, port.port};
  auto asWritten = [](const std::string& sniHost) { return std::vector<std::string>{sniHost}; };
  std::vector<weft::v1::TcpRoute> anyName;
  for (const Object* vs : sources.virtualServices) {
    for (auto& r : tlsRoutesFor(sources.routes, *vs, scope, asWritten, sources.note)) out.push_back(std::move(r));
    for (auto& r : tcpRoutesFor(sources.routes, *vs, scope, sources.note)) anyName.push_back(std::move(r));
  }
  if (!anyName.empty()) {
    for (auto& r : anyName) out.push_back(std::move(r));
    return out;
  }
  weft::v1::TcpRoute fallback;
  fallback.set_name(fmt::format("default/{}:{}", port.service.hostname(), port.port));
  auto* cluster = fallback.add_clusters();
  cluster->set_cluster(port.defaultCluster());
  cluster->set_weight(1);
  out.push_back(std::move(fallback));
  return out;
}

}  // namespace weft::control
