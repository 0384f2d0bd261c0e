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
  for (const Object* vs : sources.virtualServices) {
    for (auto& r : tcpRoutesFor(sources.routes, *vs, TcpRouteScope{kMeshScope, port.port}, sources.note)) out.push_back(std::move(r));
    if (!arrayAt(vs->value(), {"spec", "tls"}).empty()) {
      sources.note(*vs, fmt::format("tls[] routes are not built at waypoints: port {} of {} is routed by its tcp[] rules or to the Service",
                                    port.port, port.service.hostname()));
    }
  }
  if (!out.empty()) return out;
  weft::v1::TcpRoute fallback;
  fallback.set_name(fmt::format("default/{}:{}", port.service.hostname(), port.port));
  auto* cluster = fallback.add_clusters();
  cluster->set_cluster(port.defaultCluster());
  cluster->set_weight(1);
  out.push_back(std::move(fallback));
  return out;
}

}  // namespace weft::control
