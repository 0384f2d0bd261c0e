#include "control/gateway_api_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <set>

#include "control/gateway_api_attachment.h"
#include "control/grpcroute_compiler.h"
#include "control/httproute_compiler.h"
#include "control/host_names.h"
#include "install/managed_gateway_objects.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::Object;
using model::stringAt;

namespace {

constexpr const char* kGroup = kGatewayApiGroup;
constexpr const char* kGatewayKind = kGatewayApiGatewayKind;
constexpr const char* kHttpRouteKind = kGatewayApiHttpRouteKind;
constexpr const char* kGrpcRouteKind = kGatewayApiGrpcRouteKind;
constexpr const char* kTlsRouteKind = kGatewayApiTlsRouteKind;
constexpr const char* kTcpRouteKind = kGatewayApiTcpRouteKind;

struct VirtualHostEntries {
  std::vector<CompiledHttpRoute> routes;
  std::set<std::string> routesAdded;  // "<ns>/<name>": a route is served once per host
};

// One port's listeners of one Gateway: HTTP or HTTPS ones (http[] routes), TLS passthrough
// ones (TLSRoutes, which may share an HTTPS port) or TCP ones (TCPRoutes, alone on a port).
struct PortGroup {
  bool https = false;
  std::vector<const json::value*> listeners;
  std::vector<const json::value*> passthrough;
  std::vector<const json::value*> tcp;
  std::vector<weft::v1::TlsServer> tls;
  // TLS listeners with tls.mode Terminate: each one's index in `tls`, whose server relays
  // what it decrypts by the first TLSRoute or TCPRoute attached (terminate_tcp).
  std::vector<std::pair<const json::value*, size_t>> terminated;
  bool empty() const { return listeners.empty() && passthrough.empty() && tcp.empty() && terminated.empty(); }
  weft::v1::Listener::Protocol protocol() const {
    if (https) return weft::v1::Listener::HTTPS;
    if (!passthrough.empty()) return weft::v1::Listener::TLS;
    if (!tcp.empty()) return weft::v1::Listener::TCP;
    return weft::v1::Listener::HTTP;
  }
};

class GatewayApiView {
 public:
  GatewayApiView(const ObjectsByKind& objects, RegistryBuild& build, const RouteCompiler::ClusterFor& clusterFor)
      : objects_(objects),
        build_(build),
        clusterFor_(clusterFor),
        routes_(
            clusterFor, [this](const Object& route, const json::value& ref) { return resolveBackend(route, ref); },
            [this](const Object& o, const std::string& what) { note(o, what); }),
        grpcRoutes_(
            clusterFor, [this](const Object& route, const json::value& ref) { return resolveBackend(route, ref); },
            [this](const Object& o, const std::string& what) { note(o, what); }),
        index_(objects) {
    auto unserved = [this](const Object& route, const std::string& what) { build_.gatewayApiProblems.unservedRules.try_emplace(route.key(), what); };
    routes_.onUnservedRule(unserved);
    grpcRoutes_.onUnservedRule(unserved);
  }

  void run() {
    for (const auto& gateway : objectsOf(objects_, kGatewayKind)) {
      if (stringAt(gateway.value(), {"spec", "gatewayClassName"}) == install::kIngressGatewayClass) compileGateway(gateway);
    }
    // A GRPCRoute's backends speak gRPC, so HTTP/2, however their Service port is named.
    auto& clusters = build_.resources[kClusterType];
    for (const auto& name : http2Clusters_) {
      if (auto found = clusters.find(name); found != clusters.end()) {
        found->second.mutable_cluster()->mutable_connection_pool()->set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
      }
    }
  }

 private:
  void note(const Object& o, const std::string& what) { build_.notes.push_back(fmt::format("{}: {}", o.friendlyName(), what)); }

  ResolvedBackend resolveBackend(const Object& route, const json::value& ref) const { return index_.resolveBackend(route, ref); }

  // Whether `route` attaches to `listener` of `gateway` (parentRefs, then allowedRoutes).
  // A route that names a listener by sectionName and is not admitted there gets a note (the
  // spec's NotAllowedByListeners); one that names the whole Gateway attaches where it can.
  bool attached(const Object& route, const Object& gateway, const json::value& listener) {
    for (const auto& ref : arrayAt(route.value(), {"spec", "parentRefs"})) {
      if (!parentRefNamesGateway(ref, route, gateway) || !parentRefSelectsListener(ref, listener)) continue;
      if (index_.admits(gateway, listener, route)) return true;
      if (std::string section = stringAt(ref, {"sectionName"}); !section.empty()) {
        note(route, fmt::format("listener {} of Gateway {}/{} (protocol {}) does not allow this route (its kind or namespace): not attached",
                                section, gateway.ns(), gateway.name(), stringAt(listener, {"protocol"})));
      }
    }
    return false;
  }

  std::string secretVersion(const std::string& ns, const std::string& name) const {
    for (const auto& secret : objectsOf(objects_, "Secret")) {
      if (secret.ns() == ns && secret.name() == name) return stringOr(secret.value(), {"metadata", "resourceVersion"}, "present");
    }
    return "";
  }

  void problem(const Object& gateway, size_t listener, ListenerProblem what) {
    build_.gatewayApiProblems.listeners[gateway.ns() + "/" + gateway.name()][listener] = std::move(what);
  }

  // An HTTPS (or TLS Terminate) listener's certificate, served as an Istio SIMPLE server with credentialName.
  std::optional<weft::v1::TlsServer> tlsServer(const Object& gateway, const json::value& listener, size_t index, const std::string& where) {
    const auto& refs = arrayAt(listener, {"tls", "certificateRefs"});
    if (refs.empty()) {
      note(gateway, fmt::format("{}: {} without tls.certificateRefs is not served: left out", where, stringAt(listener, {"protocol"})));
      problem(gateway, index, {"ResolvedRefs", "InvalidCertificateRef", "tls.certificateRefs is empty: nothing to serve", true});
      return std::nullopt;
    }
    const auto& ref = refs[0];
    std::string ns = stringOr(ref, {"namespace"}, gateway.ns());
    std::string name = stringAt(ref, {"name"});
    if (!stringAt(ref, {"group"}).empty() || stringOr(ref, {"kind"}, "Secret") != "Secret") {
      note(gateway, fmt::format("{}.tls.certificateRefs[0]: only Secrets are served: left out", where));
      problem(gateway, index, {"ResolvedRefs", "InvalidCertificateRef", "tls.certificateRefs[0] is not a Secret (only Secrets are served)", true});
      return std::nullopt;
    }
    if (ns != gateway.ns() && !index_.granted("Gateway", gateway.ns(), "", "Secret", ns, name)) {
      note(gateway, fmt::format("{}.tls.certificateRefs[0]: Secret {}/{} is in another namespace and no ReferenceGrant allows it: left out", where, ns, name));
      problem(gateway, index,
              {"ResolvedRefs", "RefNotPermitted", fmt::format("Secret {}/{} is in another namespace and no ReferenceGrant there allows it", ns, name), true});
      return std::nullopt;
    }
    weft::v1::TlsServer tls;
    tls.set_mode(weft::v1::TlsServer::SIMPLE);
    tls.set_credential_name(name);
    tls.set_credential_namespace(ns);
    tls.set_credential_version(secretVersion(ns, name));
    // Served all the same: the Secret may come later, and the proxy picks it up then.
    if (tls.credential_version().empty()) {
      problem(gateway, index, {"ResolvedRefs", "InvalidCertificateRef", fmt::format("Secret {}/{} does not exist", ns, name), false});
    }
    tls.add_hosts(stringOr(listener, {"hostname"}, "*"));
    return tls;
  }

  void compileGateway(const Object& gateway) {
    const std::string key = fmt::format("{}/{}/{}", kGroup, gateway.ns(), gateway.name());
    std::map<uint32_t, PortGroup> ports;
    size_t next = 0;
    for (const auto& listener : arrayAt(gateway.value(), {"spec", "listeners"})) {
      size_t index = next++;
      std::string where = fmt::format("spec.listeners[{}]", index);
      auto conflict = [&](const std::string& message) {
        note(gateway, fmt::format("{}: {}: left out", where, message));
        problem(gateway, index, {"Conflicted", "ProtocolConflict", message, true});
      };
      std::string protocol = stringAt(listener, {"protocol"});
      auto port = static_cast<uint32_t>(intAt(listener, {"port"}));
      auto& group = ports[port];
      if (protocol == "TLS" || protocol == "TCP") {
        bool passthrough = protocol == "TLS";
        if (passthrough && stringOr(listener, {"tls", "mode"}, "Terminate") != "Passthrough") {
          // Terminated, then relayed as TCP; it shares a port with the other TLS listeners.
          if (!group.tcp.empty() || (!group.listeners.empty() && !group.https)) {
            conflict(fmt::format("port {} already serves another protocol", port));
            continue;
          }
          auto tls = tlsServer(gateway, listener, index, where);
          if (!tls) continue;
          tls->set_terminate_tcp(true);
          group.https = true;
          group.terminated.emplace_back(&listener, group.tls.size());
          group.tls.push_back(std::move(*tls));
          continue;
        }
        // TLS passthrough may share a port with HTTPS (the SNI tells them apart); nothing
        // shares one with TCP.
        bool clash = passthrough ? (!group.listeners.empty() && !group.https) || !group.tcp.empty()
                                 : !group.listeners.empty() || !group.passthrough.empty() || !group.tcp.empty() || !group.terminated.empty();
        if (clash) {
          conflict(fmt::format("port {} already serves another protocol", port));
          continue;
        }
        (passthrough ? group.passthrough : group.tcp).push_back(&listener);
        continue;
      }
      if (protocol != "HTTP" && protocol != "HTTPS") {
        std::string message = fmt::format("protocol {} is not served by the gateway (HTTP, HTTPS, TLS and TCP are)", protocol);
        note(gateway, fmt::format("{}: {}: left out", where, message));
        problem(gateway, index, {"Accepted", "UnsupportedProtocol", message, true});
        continue;
      }
      if (!group.tcp.empty() || (protocol == "HTTP" && !group.passthrough.empty())) {
        conflict(fmt::format("port {} already serves another protocol", port));
        continue;
      }
      if (protocol == "HTTPS" && !group.listeners.empty() && !group.https) {
        conflict(fmt::format("port {} already serves HTTP", port));
        continue;
      }
      if (protocol == "HTTPS") {
        auto tls = tlsServer(gateway, listener, index, where);
        if (!tls) continue;
        group.https = true;
        group.tls.push_back(std::move(*tls));
      } else if (group.https) {
        conflict(fmt::format("port {} already serves HTTPS", port));
        continue;
      }
      group.listeners.push_back(&listener);
    }
    std::vector<const Object*> allRoutes;
    for (const char* kind : {kHttpRouteKind, kGrpcRouteKind}) {
      for (const auto& route : objectsOf(objects_, kind)) allRoutes.push_back(&route);
    }
    for (const auto& [port, group] : ports) {
      if (group.empty()) continue;
      std::map<std::string, VirtualHostEntries> hosts;
      for (const auto* listener : group.listeners) {
        std::string listenerHost = stringAt(*listener, {"hostname"});
        for (const Object* routeObject : allRoutes) {
          const Object& route = *routeObject;
          if (!attached(route, gateway, *listener)) continue;
          auto domains = domainsFor(listenerHost, arrayAt(route.value(), {"spec", "hostnames"}));
          if (domains.empty()) {
            note(route, fmt::format("no hostname in common with listener {} of Gateway {}/{}: not attached there", stringAt(*listener, {"name"}),
                                    gateway.ns(), gateway.name()));
            continue;
          }
          std::vector<CompiledHttpRoute> compiled;
          bool done = false;
          for (const auto& domain : domains) {
            auto& entries = hosts[domain];
            if (!entries.routesAdded.insert(route.ns() + "/" + route.name()).second) continue;
            if (!done) {
              compiled = route.key().kind == kGrpcRouteKind ? grpcRoutes_.compile(route, http2Clusters_)
                                                        : routes_.compile(route, {.port = port, .https = group.https});
              done = true;
            }
            entries.routes.insert(entries.routes.end(), compiled.begin(), compiled.end());
          }
        }
      }
      weft::v1::Resource listenerResource;
      listenerResource.set_name(fmt::format("{}/{}", key, port));
      auto* l = listenerResource.mutable_listener();
      l->set_name(listenerResource.name());
      l->set_port(port);
      l->set_bind_port(port);
      l->set_protocol(group.protocol());
      for (const auto* listener : group.listeners) l->add_server_hosts(stringOr(*listener, {"hostname"}, "*"));
      for (const auto& t : group.tls) *l->add_tls_servers() = t;
      for (const auto& [listener, index] : group.terminated) {
        if (auto route = terminatedRoute(gateway, *listener)) *l->mutable_tls_servers(static_cast<int>(index))->add_tcp_routes() = std::move(*route);
      }
      for (auto& r : l4Routes(gateway, group)) *l->add_tcp_routes() = std::move(r);
      l->set_route_config_name(fmt::format("{}/http.{}", key, port));
      l->set_gateway(fmt::format("{}/{}/{}", kGroup, gateway.ns(), gateway.name()));
      for (const auto& [label, value] : install::managedGatewaySelector(gateway.name(), gateway.ns())) {
        (*l->mutable_selector())[std::string(label)] = std::string(value.as_string());
      }
      weft::v1::Resource routesResource;
      routesResource.set_name(l->route_config_name());
      auto* config = routesResource.mutable_route_configuration();
      config->set_name(l->route_config_name());
      for (auto& [domain, entries] : hosts) {
        std::stable_sort(entries.routes.begin(), entries.routes.end(),
                         [](const CompiledHttpRoute& a, const CompiledHttpRoute& b) { return a.precedence.before(b.precedence); });
        auto* vhost = config->add_virtual_hosts();
        vhost->set_name(fmt::format("{}:{}", domain, port));
        vhost->add_domains(domain);
        for (auto& entry : entries.routes) *vhost->add_routes() = std::move(entry.route);
      }
      build_.resources[kListenerType][listenerResource.name()] = std::move(listenerResource);
      build_.resources[kRouteConfigurationType][routesResource.name()] = std::move(routesResource);
    }
  }

  // The TLSRoutes attached to the group's passthrough listeners, then the TCPRoute attached
  // to its TCP listener, as weft.v1.TcpRoutes: a TLSRoute by its hostnames narrowed to the
  // listeners', a TCPRoute for every connection. Only a route's first rule is served (its
  // matching is by hostname alone, so later rules could never be picked).
  // A TLSRoute's or TCPRoute's first rule as a weft.v1.TcpRoute (nullopt without rules).
  std::optional<weft::v1::TcpRoute> compileL4Route(const Object& route, const std::vector<std::string>& sniHosts) {
    const auto& rules = arrayAt(route.value(), {"spec", "rules"});
    if (rules.empty()) return std::nullopt;
    if (rules.size() > 1) note(route, "only the first rule is served: the others could never be picked (matching is by hostname alone)");
    weft::v1::TcpRoute compiled;
    compiled.set_name(fmt::format("{}/{}/rule.0", route.ns(), route.name()));
    for (const auto& host : sniHosts) compiled.add_sni_hosts(host);
    for (const auto& ref : arrayAt(rules[0], {"backendRefs"})) {
      auto weight = at(ref, {"weight"}).is_int64() ? intAt(ref, {"weight"}) : 1;
      if (weight <= 0) continue;
      ResolvedBackend backend = resolveBackend(route, ref);
      auto* cluster = compiled.add_clusters();
      cluster->set_weight(static_cast<uint32_t>(weight));
      if (backend.state == ResolvedBackend::State::kRefused) {
        // Its share of connections is closed (no cluster), as the spec asks rejections to
        // respect weights; a Service not allowed is never reached.
        note(route, fmt::format("backendRef {}: {}: its share of connections is closed", stringAt(ref, {"name"}), backend.why));
        continue;
      }
      // A missing Service's cluster has no endpoint: its share is closed (UH) until it exists.
      if (backend.state == ResolvedBackend::State::kMissingService) note(route, fmt::format("backendRef {}: {}", stringAt(ref, {"name"}), backend.why));
      cluster->set_cluster(clusterFor_(route, backend.host, static_cast<uint32_t>(intAt(ref, {"port"})), ""));
    }
    // No backend at all: the route still takes its connections, which are then closed.
    return compiled;
  }

  // A TLS Terminate listener's route: the first TLSRoute (whose hostnames meet the
  // listener's) or TCPRoute attached; the others are noted. None: its connections close (NR).
  std::optional<weft::v1::TcpRoute> terminatedRoute(const Object& gateway, const json::value& listener) {
    std::optional<weft::v1::TcpRoute> chosen;
    std::string chosenName;
    for (const char* kind : {kTlsRouteKind, kTcpRouteKind}) {
      for (const auto& route : objectsOf(objects_, kind)) {
        if (!attached(route, gateway, listener)) continue;
        if (route.key().kind == kTlsRouteKind && domainsFor(stringAt(listener, {"hostname"}), arrayAt(route.value(), {"spec", "hostnames"})).empty()) {
          note(route, fmt::format("no hostname in common with listener {} of Gateway {}/{}: not attached there", stringAt(listener, {"name"}),
                                  gateway.ns(), gateway.name()));
          continue;
        }
        if (chosen) {
          note(route, fmt::format("listener {} of Gateway {}/{} already relays by {} (the first takes every connection): not served",
                                  stringAt(listener, {"name"}), gateway.ns(), gateway.name(), chosenName));
          continue;
        }
        chosen = compileL4Route(route, {});
        chosenName = route.ns() + "/" + route.name();
      }
    }
    return chosen;
  }

  std::vector<weft::v1::TcpRoute> l4Routes(const Object& gateway, const PortGroup& group) {
    std::vector<weft::v1::TcpRoute> out;
    auto compile = [&](const Object& route, const std::vector<std::string>& sniHosts) {
      if (auto compiled = compileL4Route(route, sniHosts)) out.push_back(std::move(*compiled));
    };
    // A TLSRoute on several passthrough listeners of the port: its names on each, together.
    std::vector<std::pair<const Object*, std::vector<std::string>>> tlsRoutes;
    for (const auto* listener : group.passthrough) {
      for (const auto& route : objectsOf(objects_, kTlsRouteKind)) {
        if (!attached(route, gateway, *listener)) continue;
        auto domains = domainsFor(stringAt(*listener, {"hostname"}), arrayAt(route.value(), {"spec", "hostnames"}));
        if (domains.empty()) {
          note(route, fmt::format("no hostname in common with listener {} of Gateway {}/{}: not attached there", stringAt(*listener, {"name"}),
                                  gateway.ns(), gateway.name()));
          continue;
        }
        auto entry = std::find_if(tlsRoutes.begin(), tlsRoutes.end(), [&](const auto& e) { return e.first == &route; });
        if (entry == tlsRoutes.end()) entry = tlsRoutes.insert(tlsRoutes.end(), {&route, {}});
        for (auto& domain : domains) {
          if (std::find(entry->second.begin(), entry->second.end(), domain) == entry->second.end()) entry->second.push_back(std::move(domain));
        }
      }
    }
    for (const auto& [route, names] : tlsRoutes) compile(*route, names);
    // Routes of the other family that name one of these listeners (or an HTTP one) by
    // sectionName are not attached: attached() notes why.
    for (const char* kind : {kHttpRouteKind, kGrpcRouteKind}) {
      for (const auto& route : objectsOf(objects_, kind)) {
        for (const auto* listener : group.passthrough) attached(route, gateway, *listener);
        for (const auto* listener : group.tcp) attached(route, gateway, *listener);
      }
    }
    for (const char* kind : {kTlsRouteKind, kTcpRouteKind}) {
      for (const auto& route : objectsOf(objects_, kind)) {
        for (const auto* listener : group.listeners) attached(route, gateway, *listener);
      }
    }
    // A TCP port has one listener, and its first TCPRoute takes every connection.
    for (const auto* listener : group.tcp) {
      bool served = false;
      for (const auto& route : objectsOf(objects_, kTcpRouteKind)) {
        if (!attached(route, gateway, *listener)) continue;
        if (served) {
          note(route, fmt::format("listener {} of Gateway {}/{} already serves another TCPRoute (the first takes every connection): not served",
                                  stringAt(*listener, {"name"}), gateway.ns(), gateway.name()));
          continue;
        }
        compile(route, {});
        served = true;
      }
    }
    return out;
  }

  const ObjectsByKind& objects_;
  RegistryBuild& build_;
  RouteCompiler::ClusterFor clusterFor_;
  HttpRouteCompiler routes_;
  GrpcRouteCompiler grpcRoutes_;
  std::set<std::string> http2Clusters_;  // clusters GRPCRoutes send to
  GatewayApiIndex index_;
};

}  // namespace

const std::vector<std::string>& gatewayApiViewKinds() {
  // Namespaces, Services and Secrets are read too; the registry and the proxy view watch them.
  static const std::vector<std::string> kinds{kGatewayKind, kHttpRouteKind, kGrpcRouteKind, kTlsRouteKind, kTcpRouteKind, kGatewayApiReferenceGrantKind};
  return kinds;
}

void addGatewayApiView(const ObjectsByKind& objects, RegistryBuild& build, const RouteCompiler::ClusterFor& clusterFor) {
  GatewayApiView(objects, build, clusterFor).run();
}

}  // namespace weft::control
