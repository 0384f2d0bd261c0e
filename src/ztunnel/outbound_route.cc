#include "ztunnel/outbound_route.h"

#include <fmt/format.h>

namespace weft::ztunnel {
namespace {

using Kind = OutboundRoute::Kind;

std::string firstAddress(const weft::v1::Workload& w) { return w.addresses().empty() ? "" : w.addresses(0); }

OutboundRoute toWorkload(const weft::v1::Workload& workload, uint32_t port) {
  OutboundRoute route;
  route.workload = &workload;
  route.address = *Ipv4Address::parse(firstAddress(workload));  // addresses were checked when the snapshot was built
  route.port = port;
  if (workload.tunnel_protocol() == weft::v1::Workload::HBONE) {
    route.kind = Kind::kHbone;
    route.authority = fmt::format("{}:{}", firstAddress(workload), port);
    route.expectedIdentities = {workloadIdentity(workload)};
  } else {
    route.kind = Kind::kPassthrough;
  }
  return route;
}

OutboundRoute refused(std::string flag, std::string reason) {
  OutboundRoute route;
  route.kind = Kind::kRefused;
  route.responseFlag = std::move(flag);
  route.reason = std::move(reason);
  return route;
}

bool servesPort(const weft::v1::Service& service, uint32_t port) {
  if (service.ports().empty()) return true;  // a ServiceEntry without ports takes any
  for (const auto& p : service.ports()) {
    if (p.port() == port) return true;
  }
  return false;
}

}  // namespace

OutboundRoute routeOutbound(const ConfigSnapshot& config, Ipv4Address destination, uint32_t port, uint64_t pick) {
  if (const ServiceView* view = config.serviceAt(destination)) {
    if (!servesPort(view->service, port)) {
      return refused("NR", fmt::format("service {} has no port {}", view->key, port));
    }
    // A service with a waypoint: HBONE to the waypoint, which sees the VIP as authority.
    if (!view->service.waypoint().empty()) {
      auto waypoints = config.waypointWorkloads(view->service.waypoint());
      if (waypoints.empty()) return refused("UH", fmt::format("waypoint {} of {} has no workloads", view->service.waypoint(), view->key));
      const weft::v1::Workload& waypoint = *waypoints[pick % waypoints.size()];
      auto route = toWorkload(waypoint, port);
      // A waypoint pod is not enrolled (it terminates HBONE itself), so toWorkload sees a
      // plain-TCP workload: the tunnel and the server identity to check are set here.
      route.kind = Kind::kHbone;
      route.expectedIdentities = {workloadIdentity(waypoint)};
      route.authority = fmt::format("{}:{}", destination.str(), port);
      route.service = view;
      return route;
    }
    std::vector<const Endpoint*> healthy;
    for (const auto& endpoint : view->endpoints) {
      if (endpoint.workload->healthy() && !endpoint.workload->addresses().empty()) healthy.push_back(&endpoint);
    }
    if (healthy.empty() && view->service.from_service_entry() && view->endpoints.empty()) {
      // A ServiceEntry for something outside the mesh: known, so allowed, and dialled as is.
      OutboundRoute route;
      route.kind = Kind::kPassthrough;
      route.address = destination;
      route.port = port;
      route.service = view;
      return route;
    }
    if (healthy.empty()) return refused("UH", fmt::format("service {} has no ready endpoints", view->key));
    const Endpoint& chosen = *healthy[pick % healthy.size()];
    auto route = toWorkload(*chosen.workload, chosen.targetPortFor(port));
    route.service = view;
    return route;
  }
  if (const weft::v1::Workload* workload = config.workloadAt(destination)) return toWorkload(*workload, port);
  if (config.registryOnly()) {
    return refused("BlackHoleCluster", fmt::format("{}:{} is not a known service, workload or ServiceEntry (REGISTRY_ONLY)", destination.str(), port));
  }
  OutboundRoute route;
  route.kind = Kind::kPassthrough;
  route.address = destination;
  route.port = port;
  return route;
}

}  // namespace weft::ztunnel
