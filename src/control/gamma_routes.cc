#include "control/gamma_routes.h"

#include <fmt/format.h>

#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::Object;
using model::stringAt;

bool parentRefNamesService(const json::value& ref) {
  return at(ref, {"group"}).is_string() && stringAt(ref, {"group"}).empty() && stringAt(ref, {"kind"}) == "Service";
}

std::vector<MeshRouteAttachment> meshRoutesFor(const ObjectsByKind& objects, const std::string& serviceNs, const std::string& serviceName,
                                               const std::string& waypointNs, const char* kind) {
  std::vector<MeshRouteAttachment> out;
  for (const auto& route : objectsOf(objects, kind)) {
    if (route.ns() != serviceNs && route.ns() != waypointNs) continue;
    MeshRouteAttachment attachment{.route = &route, .ports = {}};
    bool attached = false, everyPort = false;
    for (const auto& ref : arrayAt(route.value(), {"spec", "parentRefs"})) {
      if (!parentRefNamesService(ref) || stringAt(ref, {"name"}) != serviceName) continue;
      std::string ns = stringAt(ref, {"namespace"});
      if ((ns.empty() ? route.ns() : ns) != serviceNs) continue;
      attached = true;
      auto port = intAt(ref, {"port"});
      if (port > 0 && port <= 65535) {
        attachment.ports.insert(static_cast<uint32_t>(port));
      } else {
        everyPort = true;
      }
    }
    if (!attached) continue;
    if (everyPort) attachment.ports.clear();
    out.push_back(std::move(attachment));
  }
  return out;
}

ResolvedBackend resolveMeshBackend(const std::set<std::string>& services, const Object& route, const json::value& ref) {
  std::string group = stringAt(ref, {"group"});
  std::string kind = stringAt(ref, {"kind"});
  if (kind.empty()) kind = "Service";
  std::string name = stringAt(ref, {"name"});
  std::string ns = stringAt(ref, {"namespace"});
  if (ns.empty()) ns = route.ns();
  ResolvedBackend out;
  out.host = fmt::format("{}.{}.svc.cluster.local", name, ns);
  if (!group.empty() || kind != "Service") {
    out.why = fmt::format("backend kind {}{}{} is not supported (Service is)", group, group.empty() ? "" : "/", kind);
    return out;
  }
  out.state = services.contains(ns + "/" + name) ? ResolvedBackend::State::kService : ResolvedBackend::State::kMissingService;
  if (out.state == ResolvedBackend::State::kMissingService) out.why = fmt::format("Service {}/{} does not exist", ns, name);
  return out;
}

}  // namespace weft::control
