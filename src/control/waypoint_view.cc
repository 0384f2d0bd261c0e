#include "control/waypoint_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include "control/authorization_compiler.h"
#include "control/gamma_routes.h"
#include "control/waypoint_tcp_routes.h"
#include "control/grpcroute_compiler.h"
#include "control/httproute_compiler.h"
#include "control/host_names.h"
#include "model/json_access.h"

namespace weft::control {

using model::arrayAt;
using model::at;
using model::Object;
using model::stringAt;

namespace {

constexpr const char* kVirtualServiceKind = "VirtualService.networking.istio.io";

// A VirtualService applies to mesh traffic (and so at a waypoint) when it names no
// gateways, or names `mesh` among them.
bool boundToMesh(const Object& vs) {
  const auto& gateways = arrayAt(vs.value(), {"spec", "gateways"});
  if (gateways.empty()) return true;
  return std::any_of(gateways.begin(), gateways.end(), [](const auto& g) { return g.is_string() && g.get_string() == "mesh"; });
}

bool namesHost(const Object& vs, const std::string& hostname) {
  const auto& hosts = arrayAt(vs.value(), {"spec", "hosts"});
  return std::any_of(hosts.begin(), hosts.end(),
                     [&](const auto& h) { return h.is_string() && resolveHost(std::string(h.get_string()), vs.ns()) == hostname; });
}

// Istio serves the VirtualServices of one host in creation-time order, then by name.
std::vector<const Object*> meshVirtualServices(const ObjectsByKind& objects) {
  std::vector<const Object*> out;
  for (const auto& vs : objectsOf(objects, kVirtualServiceKind)) {
    if (boundToMesh(vs)) out.push_back(&vs);
  }
  std::sort(out.begin(), out.end(), [](const Object* a, const Object* b) {
    return std::make_tuple(stringAt(a->value(), {"metadata", "creationTimestamp"}), a->ns(), a->name()) <
           std::make_tuple(stringAt(b->value(), {"metadata", "creationTimestamp"}), b->ns(), b->name());
  });
  return out;
}

const Object* serviceObject(const ObjectsByKind& objects, const weft::v1::Service& service) {
  for (const auto& o : objectsOf(objects, "Service")) {
    if (o.ns() == service.namespace_() && o.name() == service.name()) return &o;
  }
  return nullptr;
}

// What a waypoint does for a Service port no VirtualService covers: every request to the
// Service's endpoints, with Istio's default retry policy.
weft::v1::Route defaultRoute(const std::string& clusterName, const std::string& hostname, uint32_t port) {
  weft::v1::Route route;
  route.set_name(fmt::format("default/{}:{}", hostname, port));
  auto* action = route.mutable_route();
  auto* cluster = action->add_clusters();
  cluster->set_cluster(clusterName);
  cluster->set_weight(1);
  action->mutable_retries()->set_attempts(kDefaultRetryAttempts);
  action->mutable_retries()->set_retry_on(kDefaultRetryOn);
  return route;
}

// How a waypoint serves a Service port: as HTTP for the HTTP family (http, http2, grpc,
// grpc-web), as bytes for every other declared protocol (tcp, tls, https, mongo, ...: the
// waypoint neither terminates nor reads them), and by the first bytes when the port
// declares none, as Istio's waypoint sniffs such ports.
enum class PortService { kHttp, kTcp, kDetect };

PortService portService(const weft::v1::ServicePort& port) {
  if (port.protocol_unset()) return PortService::kDetect;
  const std::string& p = port.protocol();
  if (p == "HTTP" || p == "HTTP2" || p == "GRPC" || p == "GRPC-Web") return PortService::kHttp;
  return PortService::kTcp;
}

class WaypointViewCompiler {
 public:
  WaypointViewCompiler(const ObjectsByKind& objects, RegistryBuild& build, const RouteCompiler::ClusterFor& clusterFor)
      : objects_(objects),
        build_(build),
        clusterFor_(clusterFor),
        virtualServices_(meshVirtualServices(objects)) {
    for (const auto& s : objectsOf(objects, "Service")) services_.insert(s.ns() + "/" + s.name());
  }

  void run() {
    auto services = build_.resources.find(kServiceType);
    if (services == build_.resources.end()) return;
    std::set<std::string> withWaypoint;  // "<ns>/<name>"
    for (const auto& [name, resource] : services->second) {
      const auto& service = resource.service();
      if (service.waypoint().empty()) continue;
      withWaypoint.insert(service.namespace_() + "/" + service.name());
      if (service.from_service_entry()) {
        build_.notes.push_back(fmt::format("ServiceEntry {}: uses waypoint {}, but ServiceEntries through a waypoint are not built: not served there",
                                           service.hostname(), service.waypoint()));
        continue;
      }
      compileService(service);
    }
    markHttp2Clusters();
    noteUnservedMeshRoutes(withWaypoint);
    addTargetedPolicies();
  }

 private:
  void note(const Object& o, const std::string& what) { build_.notes.push_back(fmt::format("{}: {}", o.friendlyName(), what)); }

  void compileService(const weft::v1::Service& service) {
    const std::string& waypoint = service.waypoint();
    auto slash = waypoint.find('/');
    if (slash == std::string::npos) return;
    const std::string waypointNs = waypoint.substr(0, slash), waypointName = waypoint.substr(slash + 1);
    const Object* serviceObj = serviceObject(objects_, service);
    if (serviceObj == nullptr) return;

    // GAMMA HTTPRoutes come first, as in Istio, where the routes converted from the
    // Gateway API in the waypoint's namespace are selected before VirtualServices and the
    // waypoint serves the first selection only: with any, the Service's VirtualServices are
    // not applied here (gamma_routes.h).
    auto meshRoutes = meshRoutesFor(objects_, service.namespace_(), service.name(), waypointNs);
    auto meshGrpcRoutes = meshRoutesFor(objects_, service.namespace_(), service.name(), waypointNs, kMeshGrpcRouteKind);
    auto meshTcpRoutes = meshRoutesFor(objects_, service.namespace_(), service.name(), waypointNs, kMeshTcpRouteKind);
    std::vector<const Object*> covering;
    for (const Object* vs : virtualServices_) {
      if (!namesHost(*vs, service.hostname())) continue;
      if (meshRoutes.empty() && meshGrpcRoutes.empty()) {
        covering.push_back(vs);
      } else {
        note(*vs, fmt::format("an HTTPRoute or GRPCRoute attached to Service {}/{} takes precedence at its waypoint: not applied there",
                              service.namespace_(), service.name()));
      }
    }
    for (const auto& port : service.ports()) {
      const std::string name = fmt::format("{}/{}:{}", waypoint, service.hostname(), port.port());
      const PortService kind = portService(port);
      weft::v1::Resource listenerResource;
      listenerResource.set_name(name);
      auto* listener = listenerResource.mutable_listener();
      listener->set_name(name);
      listener->set_port(port.port());
      listener->set_protocol(kind == PortService::kTcp ? weft::v1::Listener::TCP : weft::v1::Listener::HTTP);
      listener->set_detect_protocol(kind == PortService::kDetect);
      listener->set_route_config_name(name);
      listener->set_gateway(waypoint);
      (*listener->mutable_selector())[kWaypointGatewayNameLabel] = waypointName;
      listener->set_waypoint_service(service.hostname());
      for (const auto& address : service.addresses()) listener->add_waypoint_authorities(fmt::format("{}:{}", address, port.port()));

      // A destination without a port on this Service means the port the request came to
      // (Istio builds each port's routes so).
      RouteCompiler routes(
          [this, &service, listenerPort = port.port()](const Object& vs, const std::string& host, uint32_t destinationPort,
                                                        const std::string& subset) {
            bool samePort = destinationPort == 0 && host == service.hostname();
            return clusterFor_(vs, host, samePort ? listenerPort : destinationPort, subset);
          },
          [this](const Object& o, const std::string& what) { note(o, what); });
      // Made only when a default route needs it (clusters are made on first use).
      auto defaultCluster = [&] { return clusterFor_(*serviceObj, service.hostname(), port.port(), ""); };
      if (kind != PortService::kHttp) {
        auto resolve = [this](const Object& route, const boost::json::value& ref) { return resolveMeshBackend(services_, route, ref); };
        WaypointTcpSources sources{meshTcpRoutes, covering, routes, clusterFor_, resolve, [this](const Object& o, const std::string& what) { note(o, what); }};
        for (auto& route : waypointTcpRoutes({service, port.port(), defaultCluster}, sources)) *listener->add_tcp_routes() = std::move(route);
      }

      weft::v1::Resource routesResource;
      routesResource.set_name(name);
      auto* config = routesResource.mutable_route_configuration();
      config->set_name(name);
      if (kind != PortService::kTcp) {
        auto* vhost = config->add_virtual_hosts();
        vhost->set_name(fmt::format("{}:{}", service.hostname(), port.port()));
        // The Service was chosen by the CONNECT authority: any Host header reaches it.
        vhost->add_domains("*");
        for (const Object* vs : covering) {
          for (auto& route : routes.compile(*vs, kMeshScope)) {
            // A match on another port is another listener's, as for Gateways.
            if (route.match().port() != 0 && route.match().port() != port.port()) continue;
            *vhost->add_routes() = route;
          }
        }
        const bool gamma = addMeshRoutes(meshRoutes, meshGrpcRoutes, service, port.port(), *vhost);
        if (covering.empty() && !gamma) *vhost->add_routes() = defaultRoute(defaultCluster(), service.hostname(), port.port());
      }
      build_.resources[kListenerType][name] = std::move(listenerResource);
      build_.resources[kRouteConfigurationType][name] = std::move(routesResource);
    }
  }

  // Istio applies mesh routes in ambient only at waypoints: say so for the others.
  void noteUnservedMeshRoutes(const std::set<std::string>& withWaypoint) {
    for (const char* kind : {kMeshHttpRouteKind, kMeshGrpcRouteKind, kMeshTcpRouteKind}) {
      noteUnservedMeshRoutes(withWaypoint, kind);
    }
  }

  void noteUnservedMeshRoutes(const std::set<std::string>& withWaypoint, const char* kind) {
    for (const auto& route : objectsOf(objects_, kind)) {
      for (const auto& ref : arrayAt(route.value(), {"spec", "parentRefs"})) {
        if (stringAt(ref, {"group"}) == "networking.istio.io" && stringAt(ref, {"kind"}) == "ServiceEntry") {
          note(route, fmt::format("parent ServiceEntry {}: mesh routes on ServiceEntries are not built: not applied", stringAt(ref, {"name"})));
          continue;
        }
        if (!parentRefNamesService(ref)) continue;
        std::string ns = stringAt(ref, {"namespace"});
        std::string key = (ns.empty() ? route.ns() : ns) + "/" + stringAt(ref, {"name"});
        if (!withWaypoint.contains(key)) note(route, fmt::format("parent Service {} uses no waypoint: not applied (mesh routes apply at waypoints)", key));
      }
    }
  }

  // The GAMMA routes (HTTPRoutes and GRPCRoutes) for one port of `service`, ordered
  // together as the Gateway API orders them (a GRPCRoute's method match ranks as the path
  // match it becomes, so gRPC methods sort ahead of an HTTPRoute's catch-all); false when
  // none applies to the port (it then gets the default route, as in Istio). The clusters
  // GRPCRoutes send to are reached over HTTP/2 (markHttp2Clusters).
  bool addMeshRoutes(const std::vector<MeshRouteAttachment>& httpRoutes, const std::vector<MeshRouteAttachment>& grpcRoutes,
                     const weft::v1::Service& service, uint32_t listenerPort, weft::v1::VirtualHost& vhost) {
    std::vector<CompiledHttpRoute> compiled;
    bool any = false;
    // A backendRef without a port to the Service itself means the port the request came to.
    auto clusterFor = [this, &service, listenerPort](const Object& route, const std::string& host, uint32_t port, const std::string& subset) {
      return clusterFor_(route, host, port == 0 && host == service.hostname() ? listenerPort : port, subset);
    };
    auto resolve = [this](const Object& route, const boost::json::value& ref) { return resolveMeshBackend(services_, route, ref); };
    auto noteOn = [this](const Object& o, const std::string& what) { note(o, what); };
    HttpRouteCompiler httpCompiler(clusterFor, resolve, noteOn);
    GrpcRouteCompiler grpcCompiler(clusterFor, resolve, noteOn);
    // Rules the waypoint answers 500 for: the route's status says PartiallyInvalid.
    auto unserved = [this](const Object& route, const std::string& what) { build_.gatewayApiProblems.unservedRules.try_emplace(route.key(), what); };
    httpCompiler.onUnservedRule(unserved);
    grpcCompiler.onUnservedRule(unserved);
    auto applies = [listenerPort](const MeshRouteAttachment& a) { return a.ports.empty() || a.ports.contains(listenerPort); };
    for (const auto& attachment : httpRoutes) {
      if (!applies(attachment)) continue;
      any = true;
      auto routes = httpCompiler.compile(*attachment.route, {.port = listenerPort, .https = false});
      compiled.insert(compiled.end(), std::make_move_iterator(routes.begin()), std::make_move_iterator(routes.end()));
    }
    for (const auto& attachment : grpcRoutes) {
      if (!applies(attachment)) continue;
      any = true;
      auto routes = grpcCompiler.compile(*attachment.route, http2Clusters_);
      compiled.insert(compiled.end(), std::make_move_iterator(routes.begin()), std::make_move_iterator(routes.end()));
    }
    std::stable_sort(compiled.begin(), compiled.end(),
                     [](const CompiledHttpRoute& a, const CompiledHttpRoute& b) { return a.precedence.before(b.precedence); });
    for (auto& entry : compiled) *vhost.add_routes() = std::move(entry.route);
    return any;
  }

  // GRPCRoute backends speak HTTP/2 whatever their Service port is named.
  void markHttp2Clusters() {
    auto& clusters = build_.resources[kClusterType];
    for (const auto& name : http2Clusters_) {
      if (auto found = clusters.find(name); found != clusters.end()) {
        found->second.mutable_cluster()->mutable_connection_pool()->set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
      }
    }
  }

  // AuthorizationPolicies attached by targetRefs: the waypoint keeps those naming its
  // Gateway or a Service it serves (src/proxy/http_authorization.cc).
  void addTargetedPolicies() {
    for (const auto& policy : objectsOf(objects_, "AuthorizationPolicy.security.istio.io")) {
      // The scope is not used for a targeted policy, so the root namespace does not matter.
      auto http = compileTargetedHttpAuthorization(policy, "", build_.notes);
      if (!http) continue;
      weft::v1::Resource resource;
      resource.set_name(policy.ns() + "/" + policy.name());
      *resource.mutable_http_authorization() = std::move(*http);
      build_.resources[kHttpAuthorizationType][resource.name()] = std::move(resource);
    }
  }

  const ObjectsByKind& objects_;
  RegistryBuild& build_;
  RouteCompiler::ClusterFor clusterFor_;
  std::vector<const Object*> virtualServices_;
  std::set<std::string> services_;  // "<ns>/<name>", for backendRefs
  std::set<std::string> http2Clusters_;  // clusters GRPCRoutes send to
};

}  // namespace

void addWaypointView(const ObjectsByKind& objects, RegistryBuild& build, const RouteCompiler::ClusterFor& clusterFor) {
  WaypointViewCompiler(objects, build, clusterFor).run();
}

}  // namespace weft::control
