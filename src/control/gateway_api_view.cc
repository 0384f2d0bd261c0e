#include "control/gateway_api_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <set>

#include "control/grpcroute_compiler.h"
#include "control/httproute_compiler.h"
#include "control/proxy_view.h"
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

constexpr const char* kGroup = "gateway.networking.k8s.io";
constexpr const char* kGatewayKind = "Gateway.gateway.networking.k8s.io";
constexpr const char* kHttpRouteKind = "HTTPRoute.gateway.networking.k8s.io";
constexpr const char* kGrpcRouteKind = "GRPCRoute.gateway.networking.k8s.io";
constexpr const char* kTlsRouteKind = "TLSRoute.gateway.networking.k8s.io";
constexpr const char* kTcpRouteKind = "TCPRoute.gateway.networking.k8s.io";
constexpr const char* kReferenceGrantKind = "ReferenceGrant.gateway.networking.k8s.io";

std::string stringOr(const json::value& v, std::initializer_list<std::string_view> path, std::string fallback) {
  std::string s = stringAt(v, path);
  return s.empty() ? fallback : s;
}

// A Kubernetes LabelSelector (matchLabels and matchExpressions) against `labels`.
bool labelSelectorMatches(const json::value& selector, const json::object& labels) {
  auto label = [&](const std::string& key) -> std::optional<std::string> {
    const auto* v = labels.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->get_string());
  };
  const auto& match = at(selector, {"matchLabels"});
  if (match.is_object()) {
    for (const auto& [key, value] : match.get_object()) {
      if (!value.is_string() || label(std::string(key)) != std::string(value.get_string())) return false;
    }
  }
  for (const auto& e : arrayAt(selector, {"matchExpressions"})) {
    auto value = label(stringAt(e, {"key"}));
    std::string op = stringAt(e, {"operator"});
    const auto& values = arrayAt(e, {"values"});
    bool listed = value && std::any_of(values.begin(), values.end(), [&](const json::value& v) { return v.is_string() && v.get_string() == *value; });
    if ((op == "In" && !listed) || (op == "NotIn" && listed) || (op == "Exists" && !value) || (op == "DoesNotExist" && value)) return false;
  }
  return true;
}

// The domains a route serves on a listener: its hostnames intersected with the listener's
// (either may be absent, meaning any host).
std::vector<std::string> domainsFor(const std::string& listenerHost, const json::array& routeHosts) {
  std::vector<std::string> out;
  if (routeHosts.empty()) return {listenerHost.empty() ? "*" : listenerHost};
  for (const auto& h : routeHosts) {
    if (!h.is_string()) continue;
    std::string host(h.get_string()), domain;
    if (listenerHost.empty()) {
      out.push_back(host);
    } else if (serverHostAdmits(listenerHost, host, domain)) {
      out.push_back(domain);
    }
  }
  return out;
}

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
            [this](const Object& o, const std::string& what) { note(o, what); }) {
    for (const auto& ns : objectsOf(objects, "Namespace")) namespaces_[ns.name()] = &ns;
    for (const auto& s : objectsOf(objects, "Service")) services_.insert(s.ns() + "/" + s.name());
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

  // Whether a ReferenceGrant in `toNs` lets `fromKind` objects of `fromNs` refer to `toKind` `toName`.
  bool granted(const std::string& fromKind, const std::string& fromNs, const std::string& toGroup, const std::string& toKind,
               const std::string& toNs, const std::string& toName) const {
    for (const auto& grant : objectsOf(objects_, kReferenceGrantKind)) {
      if (grant.ns() != toNs) continue;
      const auto& from = arrayAt(grant.value(), {"spec", "from"});
      const auto& to = arrayAt(grant.value(), {"spec", "to"});
      bool fromOk = std::any_of(from.begin(), from.end(), [&](const json::value& f) {
        return stringAt(f, {"group"}) == kGroup && stringAt(f, {"kind"}) == fromKind && stringAt(f, {"namespace"}) == fromNs;
      });
      bool toOk = std::any_of(to.begin(), to.end(), [&](const json::value& t) {
        std::string name = stringAt(t, {"name"});
        return stringAt(t, {"group"}) == toGroup && stringAt(t, {"kind"}) == toKind && (name.empty() || name == toName);
      });
      if (fromOk && toOk) return true;
    }
    return false;
  }

  ResolvedBackend resolveBackend(const Object& route, const json::value& ref) const {
    std::string group = stringAt(ref, {"group"});
    std::string kind = stringOr(ref, {"kind"}, "Service");
    std::string name = stringAt(ref, {"name"});
    std::string ns = stringOr(ref, {"namespace"}, route.ns());
    ResolvedBackend out;
    out.host = fmt::format("{}.{}.svc.cluster.local", name, ns);
    if (!group.empty() || kind != "Service") {
      out.why = fmt::format("backend kind {}{}{} is not supported (Service is)", group, group.empty() ? "" : "/", kind);
      return out;
    }
    // The ReferenceGrant names the route's own kind (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute).
    const std::string& routeKind = route.kind();  // unqualified
    if (ns != route.ns() && !granted(routeKind, route.ns(), "", "Service", ns, name)) {
      out.why = fmt::format("Service {}/{} is in another namespace and no ReferenceGrant there allows it", ns, name);
      return out;
    }
    out.state = services_.contains(ns + "/" + name) ? ResolvedBackend::State::kService : ResolvedBackend::State::kMissingService;
    if (out.state == ResolvedBackend::State::kMissingService) out.why = fmt::format("Service {}/{} does not exist", ns, name);
    return out;
  }

  // Whether `route` attaches to `listener` of `gateway` (parentRefs, then allowedRoutes).
  // A route that names a listener by sectionName and is not admitted there gets a note (the
  // spec's NotAllowedByListeners); one that names the whole Gateway attaches where it can.
  bool attached(const Object& route, const Object& gateway, const json::value& listener) {
    for (const auto& ref : arrayAt(route.value(), {"spec", "parentRefs"})) {
      if (stringOr(ref, {"group"}, kGroup) != kGroup || stringOr(ref, {"kind"}, "Gateway") != "Gateway") continue;
      if (stringOr(ref, {"namespace"}, route.ns()) != gateway.ns() || stringAt(ref, {"name"}) != gateway.name()) continue;
      std::string section = stringAt(ref, {"sectionName"});
      auto port = intAt(ref, {"port"});
      if ((!section.empty() && section != stringAt(listener, {"name"})) || (port != 0 && port != intAt(listener, {"port"}))) continue;
      if (admits(gateway, listener, route)) return true;
      if (!section.empty()) {
        note(route, fmt::format("listener {} of Gateway {}/{} (protocol {}) does not allow this route (its kind or namespace): not attached",
                                section, gateway.ns(), gateway.name(), stringAt(listener, {"protocol"})));
      }
    }
    return false;
  }

  bool admits(const Object& gateway, const json::value& listener, const Object& route) const {
    std::string from = stringOr(listener, {"allowedRoutes", "namespaces", "from"}, "Same");
    if (from == "Same" && route.ns() != gateway.ns()) return false;
    if (from == "Selector") {
      auto ns = namespaces_.find(route.ns());
      static const json::object none;
      if (!labelSelectorMatches(at(listener, {"allowedRoutes", "namespaces", "selector"}), ns == namespaces_.end() ? none : ns->second->labels())) {
        return false;
      }
    }
    // No kinds: the protocol's own (HTTPRoute and GRPCRoute for HTTP and HTTPS, TLSRoute
    // for TLS, TCPRoute for TCP).
    const std::string& routeKind = route.kind();  // unqualified
    const auto& kinds = arrayAt(listener, {"allowedRoutes", "kinds"});
    if (kinds.empty()) {
      std::string protocol = stringAt(listener, {"protocol"});
      // A Terminate listener's bytes go on as TCP: a TCPRoute fits it as well.
      if (protocol == "TLS" && stringOr(listener, {"tls", "mode"}, "Terminate") == "Terminate") {
        return routeKind == "TLSRoute" || routeKind == "TCPRoute";
      }
      if (protocol == "TLS") return routeKind == "TLSRoute";
      if (protocol == "TCP") return routeKind == "TCPRoute";
      return routeKind == "HTTPRoute" || routeKind == "GRPCRoute";
    }
    return std::any_of(kinds.begin(), kinds.end(), [&](const json::value& k) {
      return stringOr(k, {"group"}, kGroup) == kGroup && stringAt(k, {"kind"}) == routeKind;
    });
  }

  std::string secretVersion(const std::string& ns, const std::string& name) const {
    for (const auto& secret : objectsOf(objects_, "Secret")) {
      if (secret.ns() == ns && secret.name() == name) return stringOr(secret.value(), {"metadata", "resourceVersion"}, "present");
    }
    return "";
  }

  // An HTTPS (or TLS Terminate) listener's certificate, served as an Istio SIMPLE server with credentialName.
  std::optional<weft::v1::TlsServer> tlsServer(const Object& gateway, const json::value& listener, const std::string& where) {
    const auto& refs = arrayAt(listener, {"tls", "certificateRefs"});
    if (refs.empty()) {
      note(gateway, fmt::format("{}: {} without tls.certificateRefs is not served: left out", where, stringAt(listener, {"protocol"})));
      return std::nullopt;
    }
    const auto& ref = refs[0];
    std::string ns = stringOr(ref, {"namespace"}, gateway.ns());
    std::string name = stringAt(ref, {"name"});
    if (!stringAt(ref, {"group"}).empty() || stringOr(ref, {"kind"}, "Secret") != "Secret") {
      note(gateway, fmt::format("{}.tls.certificateRefs[0]: only Secrets are served: left out", where));
      return std::nullopt;
    }
    if (ns != gateway.ns() && !granted("Gateway", gateway.ns(), "", "Secret", ns, name)) {
      note(gateway, fmt::format("{}.tls.certificateRefs[0]: Secret {}/{} is in another namespace and no ReferenceGrant allows it: left out", where, ns, name));
      return std::nullopt;
    }
    weft::v1::TlsServer tls;
    tls.set_mode(weft::v1::TlsServer::SIMPLE);
    tls.set_credential_name(name);
    tls.set_credential_namespace(ns);
    tls.set_credential_version(secretVersion(ns, name));
    tls.add_hosts(stringOr(listener, {"hostname"}, "*"));
    return tls;
  }

  void compileGateway(const Object& gateway) {
    const std::string key = fmt::format("{}/{}/{}", kGroup, gateway.ns(), gateway.name());
    std::map<uint32_t, PortGroup> ports;
    size_t index = 0;
    for (const auto& listener : arrayAt(gateway.value(), {"spec", "listeners"})) {
      std::string where = fmt::format("spec.listeners[{}]", index++);
      std::string protocol = stringAt(listener, {"protocol"});
      auto port = static_cast<uint32_t>(intAt(listener, {"port"}));
      auto& group = ports[port];
      if (protocol == "TLS" || protocol == "TCP") {
        bool passthrough = protocol == "TLS";
        if (passthrough && stringOr(listener, {"tls", "mode"}, "Terminate") != "Passthrough") {
          // Terminated, then relayed as TCP; it shares a port with the other TLS listeners.
          if (!group.tcp.empty() || (!group.listeners.empty() && !group.https)) {
            note(gateway, fmt::format("{}: port {} already serves another protocol: left out", where, port));
            continue;
          }
          auto tls = tlsServer(gateway, listener, where);
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
          note(gateway, fmt::format("{}: port {} already serves another protocol: left out", where, port));
          continue;
        }
        (passthrough ? group.passthrough : group.tcp).push_back(&listener);
        continue;
      }
      if (protocol != "HTTP" && protocol != "HTTPS") {
        note(gateway, fmt::format("{}: protocol {} is not served by the gateway (HTTP, HTTPS, TLS and TCP are): left out", where, protocol));
        continue;
      }
      if (!group.tcp.empty() || (protocol == "HTTP" && !group.passthrough.empty())) {
        note(gateway, fmt::format("{}: port {} already serves another protocol: left out", where, port));
        continue;
      }
      if (protocol == "HTTPS") {
        auto tls = tlsServer(gateway, listener, where);
        if (!tls) continue;
        group.https = true;
        group.tls.push_back(std::move(*tls));
      } else if (group.https) {
        note(gateway, fmt::format("{}: port {} already serves HTTPS: left out", where, port));
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
  std::map<std::string, const Object*> namespaces_;
  std::set<std::string> services_;  // "<ns>/<name>"
};

}  // namespace

const std::vector<std::string>& gatewayApiViewKinds() {
  // Namespaces, Services and Secrets are read too; the registry and the proxy view watch them.
  static const std::vector<std::string> kinds{kGatewayKind, kHttpRouteKind, kGrpcRouteKind, kTlsRouteKind, kTcpRouteKind, kReferenceGrantKind};
  return kinds;
}

void addGatewayApiView(const ObjectsByKind& objects, RegistryBuild& build, const RouteCompiler::ClusterFor& clusterFor) {
  GatewayApiView(objects, build, clusterFor).run();
}

}  // namespace weft::control
