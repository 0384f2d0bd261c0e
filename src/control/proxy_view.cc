#include "control/proxy_view.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "base/ascii.h"
#include "control/gateway_api_view.h"
#include "control/host_names.h"
#include "control/ingress_view.h"
#include "control/gateway_tcp_routes.h"
#include "control/waypoint_view.h"
#include "control/rate_limit_view.h"
#include "control/route_compiler.h"
#include "control/service_entry_cluster.h"
#include "control/traffic_policy.h"
#include "model/gateway_names.h"
#include "model/json_access.h"
#include "model/service_ports.h"
#include "tls/spiffe_id.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::Object;
using model::stringAt;

namespace {

constexpr const char* kGatewayKind = "Gateway.networking.istio.io";
constexpr const char* kVirtualServiceKind = "VirtualService.networking.istio.io";
constexpr const char* kDestinationRuleKind = "DestinationRule.networking.istio.io";

bool labelsMatch(const json::value& wanted, const Object& pod) {
  if (!wanted.is_object()) return true;
  for (const auto& [key, value] : wanted.get_object()) {
    if (!value.is_string() || pod.label(key) != value.get_string()) return false;
  }
  return true;
}

// A server host with its namespace restriction: "ns/host", "./host" (the Gateway's
// namespace), "*/host" or "host" (any namespace).
struct ServerHost {
  std::string ns;  // empty: any
  std::string host;
};

ServerHost parseServerHost(const std::string& written, const std::string& gatewayNs) {
  auto slash = written.find('/');
  if (slash == std::string::npos) return {"", written};
  std::string ns = written.substr(0, slash);
  if (ns == ".") ns = gatewayNs;
  if (ns == "*") ns.clear();
  return {ns, written.substr(slash + 1)};
}

// What one port's servers of one Gateway add up to.
struct Server {
  weft::v1::Listener::Protocol protocol = weft::v1::Listener::HTTP;
  std::vector<ServerHost> hosts;             // HTTP and terminated HTTPS servers: http[] routes
  std::vector<ServerHost> passthroughHosts;  // tls mode PASSTHROUGH: tls[] routes by SNI
  std::vector<ServerHost> tcpHosts;          // protocol TCP: tcp[] routes
  std::vector<ServerHost> redirectHosts;     // HTTP servers with tls.httpsRedirect (also in `hosts`)
  std::vector<std::string> written;
  std::vector<weft::v1::TlsServer> tls;
  std::vector<std::vector<ServerHost>> tlsHosts;  // each of `tls`'s hosts, for its tcp[] routes
  std::string kind;  // "HTTP", "TLS" or "TCP": what the port's first server made it
  bool empty() const { return hosts.empty() && passthroughHosts.empty() && tcpHosts.empty() && tls.empty(); }
};

class ProxyViewCompiler {
 public:
  // `fromIngresses`: the Gateway and VirtualServices Istio makes of Kubernetes Ingresses
  // (ingress_view.h), compiled with the store's own.
  ProxyViewCompiler(const ObjectsByKind& objects, RegistryBuild& build, const IngressAsIstio& fromIngresses)
      : objects_(objects),
        build_(build),
        fromIngresses_(fromIngresses),
        routes_([this](const Object& vs, const std::string& host, uint32_t port, const std::string& subset) { return cluster(vs, host, port, subset); },
                [this](const Object& vs, const std::string& what) { note(vs, what); }) {
    for (const auto& service : objectsOf(objects, "Service")) {
      servicesByHost_[service.name() + "." + service.ns() + ".svc.cluster.local"] = &service;
    }
    for (const auto& vs : objectsOf(objects, kVirtualServiceKind)) virtualServices_.push_back(&vs);
    for (const auto& vs : fromIngresses.virtualServices) virtualServices_.push_back(&vs);
    // Enrolled pods (the registry's workloads are built first), for HBONE to endpoints.
    for (const auto& [uid, resource] : build.resources[kWorkloadType]) {
      const auto& w = resource.workload();
      if (w.tunnel_protocol() != weft::v1::Workload::HBONE) continue;
      auto id = tls::SpiffeId::make(w.trust_domain(), w.namespace_(), w.service_account());
      if (id) meshIdentities_[w.namespace_() + "/" + w.name()] = id->uri();
    }
    // Istio orders VirtualServices by creation time, then name; routes of several
    // VirtualServices for one host are served in that order.
    std::sort(virtualServices_.begin(), virtualServices_.end(), [](const Object* a, const Object* b) {
      auto ka = std::make_tuple(stringAt(a->value(), {"metadata", "creationTimestamp"}), a->ns(), a->name());
      auto kb = std::make_tuple(stringAt(b->value(), {"metadata", "creationTimestamp"}), b->ns(), b->name());
      return ka < kb;
    });
  }

  void run() {
    for (const auto& gateway : objectsOf(objects_, kGatewayKind)) compileGateway(gateway);
    for (const auto& gateway : fromIngresses_.gateways) compileGateway(gateway);
  }

  // How routes compiled elsewhere (the Gateway API's) get their clusters: the same way.
  RouteCompiler::ClusterFor clusterMaker() {
    return [this](const Object& referrer, const std::string& host, uint32_t port, const std::string& subset) {
      return cluster(referrer, host, port, subset);
    };
  }

 private:
  void note(const Object& o, const std::string& what) { build_.notes.push_back(fmt::format("{}: {}", o.friendlyName(), what)); }

  void compileGateway(const Object& gateway) {
    const std::string gatewayKey = gateway.ns() + "/" + gateway.name();
    std::map<uint32_t, Server> ports;
    for (const auto& server : arrayAt(gateway.value(), {"spec", "servers"})) {
      auto number = intAt(server, {"port", "number"});
      std::string protocol = stringAt(server, {"port", "protocol"});
      if (number <= 0 || number > 65535) {
        note(gateway, fmt::format("a server without a valid port number is left out"));
        continue;
      }
      auto& entry = ports[static_cast<uint32_t>(number)];
      std::string mode = stringAt(server, {"tls", "mode"});
      // One port, one kind of traffic: TLS servers (terminated or passed through, told apart
      // by SNI) share a port; plain HTTP and TCP share it with nothing else, as Istio
      // refuses conflicting protocols on a port.
      const char* kind = protocol == "TCP"                       ? "TCP"
                         : protocol == "HTTPS" || protocol == "TLS" ? "TLS"
                                                                    : "HTTP";
      if (entry.kind.empty()) entry.kind = kind;
      if (entry.kind != kind) {
        note(gateway, fmt::format("server on port {} has protocol {}, but the port already serves {}: left out", number, protocol, entry.kind));
        continue;
      }
      std::vector<ServerHost>* hosts = &entry.hosts;
      if ((protocol == "HTTPS" || protocol == "TLS") && (mode.empty() || mode == "PASSTHROUGH")) {
        // Istio's default mode: the TLS stays the client's and the backend's.
        if (entry.protocol == weft::v1::Listener::HTTP) entry.protocol = weft::v1::Listener::TLS;
        hosts = &entry.passthroughHosts;
      } else if (protocol == "HTTPS" || protocol == "TLS") {
        // TLS with SIMPLE or MUTUAL: terminated, then relayed by tcp[] routes, as Istio's
        // gateway does for TLS servers that are not HTTPS.
        auto tls = tlsServer(gateway, server, static_cast<uint32_t>(number));
        if (!tls) continue;
        tls->set_terminate_tcp(protocol == "TLS");
        entry.protocol = weft::v1::Listener::HTTPS;
        entry.tls.push_back(std::move(*tls));
        std::vector<ServerHost> tlsHosts;
        for (const auto& host : arrayAt(server, {"hosts"})) {
          if (host.is_string()) tlsHosts.push_back(parseServerHost(std::string(host.get_string()), gateway.ns()));
        }
        entry.tlsHosts.push_back(std::move(tlsHosts));
        if (protocol == "TLS") {
          for (const auto& host : arrayAt(server, {"hosts"})) {
            if (host.is_string()) entry.written.emplace_back(host.get_string());
          }
          continue;
        }
      } else if (protocol == "TCP") {
        entry.protocol = weft::v1::Listener::TCP;
        hosts = &entry.tcpHosts;
      } else if (protocol != "HTTP" && protocol != "HTTP2" && protocol != "GRPC") {
        note(gateway, fmt::format("server on port {} has protocol {}{}: only HTTP, HTTPS, TCP and TLS (PASSTHROUGH, SIMPLE, MUTUAL) are compiled", number,
                                  protocol, mode.empty() ? "" : " (tls mode " + mode + ")"));
        continue;
      }
      const bool redirect = hosts == &entry.hosts && at(server, {"tls", "httpsRedirect"}) == json::value(true);
      for (const auto& host : arrayAt(server, {"hosts"})) {
        if (!host.is_string()) continue;
        entry.written.emplace_back(host.get_string());
        hosts->push_back(parseServerHost(std::string(host.get_string()), gateway.ns()));
        if (redirect) entry.redirectHosts.push_back(hosts->back());
      }
    }
    for (const auto& [port, server] : ports) {
      if (server.empty()) continue;
      weft::v1::Resource listenerResource;
      listenerResource.set_name(fmt::format("{}/{}", gatewayKey, port));
      auto* listener = listenerResource.mutable_listener();
      listener->set_name(listenerResource.name());
      listener->set_port(port);
      listener->set_bind_port(bindPortFor(at(gateway.value(), {"spec", "selector"}), port));
      listener->set_protocol(server.protocol);
      for (const auto& h : server.written) listener->add_server_hosts(h);
      for (size_t i = 0; i < server.tls.size(); ++i) {
        auto* tls = listener->add_tls_servers();
        *tls = server.tls[i];
        if (tls->terminate_tcp()) {
          for (auto& r : terminatedTcpRoutes(gatewayKey, port, server.tlsHosts[i])) *tls->add_tcp_routes() = std::move(r);
        }
      }
      for (auto& r : tcpRoutesOf(gatewayKey, port, server)) *listener->add_tcp_routes() = std::move(r);
      listener->set_route_config_name(fmt::format("{}/http.{}", gatewayKey, port));
      listener->set_gateway(gatewayKey);
      const auto& selector = at(gateway.value(), {"spec", "selector"});
      if (selector.is_object()) {
        for (const auto& [key, value] : selector.get_object()) {
          if (value.is_string()) (*listener->mutable_selector())[std::string(key)] = std::string(value.get_string());
        }
      }
      weft::v1::Resource routesResource;
      routesResource.set_name(listener->route_config_name());
      *routesResource.mutable_route_configuration() = routesFor(gateway, gatewayKey, port, server);
      build_.resources[kListenerType][listenerResource.name()] = std::move(listenerResource);
      build_.resources[kRouteConfigurationType][routesResource.name()] = std::move(routesResource);
    }
  }

  // An HTTPS server's TLS settings; nullopt (with a note) for what the proxy cannot serve.
  std::optional<weft::v1::TlsServer> tlsServer(const Object& gateway, const json::value& server, uint32_t port) {
    std::string mode = stringAt(server, {"tls", "mode"});
    std::string credential = stringAt(server, {"tls", "credentialName"});
    if (mode != "SIMPLE" && mode != "MUTUAL" && mode != "OPTIONAL_MUTUAL" && mode != "ISTIO_MUTUAL") {
      note(gateway, fmt::format("{} server on port {}: tls mode {:?} is not served (SIMPLE, MUTUAL, OPTIONAL_MUTUAL, ISTIO_MUTUAL and "
                                "PASSTHROUGH are): left out",
                                stringAt(server, {"port", "protocol"}), port, mode));
      return std::nullopt;
    }
    weft::v1::TlsServer tls;
    tls.set_mode(mode == "MUTUAL"            ? weft::v1::TlsServer::MUTUAL
                 : mode == "OPTIONAL_MUTUAL" ? weft::v1::TlsServer::OPTIONAL_MUTUAL
                 : mode == "ISTIO_MUTUAL"    ? weft::v1::TlsServer::ISTIO_MUTUAL
                                             : weft::v1::TlsServer::SIMPLE);
    bool verifiesClients = mode != "SIMPLE";
    // ISTIO_MUTUAL names no credential (validation refuses one): the proxy serves its own
    // workload certificate and checks clients against the mesh's roots, both of which it
    // holds, so a rotation needs no push.
    if (mode != "ISTIO_MUTUAL") {
      if (credential.empty()) {
        note(gateway, fmt::format("{} server on port {}: only credentialName certificates are served: left out", stringAt(server, {"port", "protocol"}), port));
        return std::nullopt;
      }
      tls.set_credential_name(credential);
      // The Secret lives in the namespace of the gateway workload, not of the Gateway object.
      std::string workloadNs = gatewayWorkloadNamespace(at(gateway.value(), {"spec", "selector"}), gateway.ns());
      tls.set_credential_namespace(workloadNs);
      tls.set_credential_version(secretVersion(workloadNs, credential));
      if (verifiesClients) {
        // The CA may also come from "<name>-cacert"; its version counts too.
        std::string caVersion = secretVersion(workloadNs, credential + "-cacert");
        if (!caVersion.empty()) tls.set_credential_version(tls.credential_version() + "+" + caVersion);
      }
      if (tls.credential_version().empty()) {
        note(gateway, fmt::format("{} server on port {}: Secret {}/{} does not exist yet: the proxy will not serve it until it does",
                                  stringAt(server, {"port", "protocol"}), port, workloadNs, credential));
      }
    }
    for (const auto& san : arrayAt(server, {"tls", "subjectAltNames"})) {
      if (san.is_string()) tls.add_subject_alt_names(std::string(san.get_string()));
    }
    for (const auto& host : arrayAt(server, {"hosts"})) {
      if (host.is_string()) tls.add_hosts(parseServerHost(std::string(host.get_string()), gateway.ns()).host);
    }
    // Istio applies the versions, cipher suites and pins to SIMPLE, MUTUAL and
    // OPTIONAL_MUTUAL only: an ISTIO_MUTUAL server keeps the mesh's own settings.
    if (mode == "ISTIO_MUTUAL") return tls;
    tls.set_min_protocol_version(stringAt(server, {"tls", "minProtocolVersion"}));
    tls.set_max_protocol_version(stringAt(server, {"tls", "maxProtocolVersion"}));
    for (const auto& suite : arrayAt(server, {"tls", "cipherSuites"})) {
      if (suite.is_string()) tls.add_cipher_suites(std::string(suite.get_string()));
    }
    if (verifiesClients) {
      for (const auto& pin : arrayAt(server, {"tls", "verifyCertificateSpki"})) {
        if (pin.is_string()) tls.add_verify_certificate_spki(std::string(pin.get_string()));
      }
      for (const auto& pin : arrayAt(server, {"tls", "verifyCertificateHash"})) {
        if (pin.is_string()) tls.add_verify_certificate_hash(std::string(pin.get_string()));
      }
    }
    return tls;
  }

  std::string gatewayWorkloadNamespace(const json::value& selector, const std::string& otherwise) const {
    if (!selector.is_object() || selector.get_object().empty()) return otherwise;
    for (const auto& pod : objectsOf(objects_, "Pod")) {
      if (labelsMatch(selector, pod)) return pod.ns();
    }
    return otherwise;
  }

  std::string secretVersion(const std::string& ns, const std::string& name) const {
    for (const auto& secret : objectsOf(objects_, "Secret")) {
      if (secret.ns() == ns && secret.name() == name) {
        std::string version = stringAt(secret.value(), {"metadata", "resourceVersion"});
        return version.empty() ? "present" : version;
      }
    }
    return "";
  }

  // Istio's gateway port translation: the server port is a port of the Service in front of
  // the selected gateway pods, and the proxy listens on its targetPort.
  uint32_t bindPortFor(const json::value& selector, uint32_t port) const {
    if (!selector.is_object() || selector.get_object().empty()) return port;
    for (const auto& pod : objectsOf(objects_, "Pod")) {
      if (!labelsMatch(selector, pod)) continue;
      for (const auto& service : objectsOf(objects_, "Service")) {
        if (service.ns() != pod.ns() || !model::selectorMatches(at(service.value(), {"spec", "selector"}), pod)) continue;
        for (const auto& p : arrayAt(service.value(), {"spec", "ports"})) {
          if (intAt(p, {"port"}) != port) continue;
          int target = model::resolveTargetPort(p, pod);
          if (target > 0) return static_cast<uint32_t>(target);
        }
      }
    }
    return port;
  }

  static bool boundTo(const Object& vs, const std::string& gatewayKey) {
    for (const auto& g : arrayAt(vs.value(), {"spec", "gateways"})) {
      if (!g.is_string()) continue;
      if (model::resolveGatewayName(g.get_string(), vs.ns()) == gatewayKey) return true;
    }
    return false;
  }

  weft::v1::RouteConfiguration routesFor(const Object& gateway, const std::string& gatewayKey, uint32_t port, const Server& server) {
    weft::v1::RouteConfiguration config;
    config.set_name(fmt::format("{}/http.{}", gatewayKey, port));
    std::map<std::string, weft::v1::VirtualHost*> byDomain;
    for (const Object* vs : virtualServices_) {
      if (!boundTo(*vs, gatewayKey)) continue;
      std::vector<weft::v1::Route> routes;
      bool compiled = false;
      for (const auto& h : arrayAt(vs->value(), {"spec", "hosts"})) {
        if (!h.is_string()) continue;
        for (const auto& serverHost : server.hosts) {
          if (!serverHost.ns.empty() && serverHost.ns != vs->ns()) continue;
          std::string domain;
          if (!serverHostAdmits(serverHost.host, std::string(h.get_string()), domain)) continue;
          if (!compiled) {
            routes = routes_.compile(*vs, gatewayKey);
            // A route matching another server port is not this listener's (Istio filters
            // port matches when it builds each port's routes).
            std::erase_if(routes, [port](const weft::v1::Route& r) { return r.match().port() != 0 && r.match().port() != port; });
            compiled = true;
          }
          // Nothing of it is this listener's (its matches name other gateways or ports): it
          // claims no domain, as Istio skips a VirtualService without routes.
          if (routes.empty()) break;
          auto& vhost = byDomain[domain];
          if (vhost == nullptr) {
            vhost = config.add_virtual_hosts();
            vhost->set_name(fmt::format("{}:{}", domain, port));
            vhost->add_domains(domain);
          }
          // A VirtualService listed once per domain, even when several server hosts admit it.
          bool already = std::any_of(vhost->routes().begin(), vhost->routes().end(), [&](const weft::v1::Route& r) {
            return !routes.empty() && r.name() == routes.front().name();
          });
          if (!already) {
            for (const auto& r : routes) *vhost->add_routes() = r;
          }
          // No break: a wider VirtualService host ("*") meets each server host on its own
          // (a.example.com and "*" both), as Istio intersects every pair.
        }
      }
    }
    requireTls(config, server, port);
    (void)gateway;
    return config;
  }

  // tls.httpsRedirect, as Istio builds it: the virtual hosts its servers' hosts made
  // require TLS, and each of those hosts no VirtualService claimed gets one of its own
  // (no routes), so its plaintext requests are still redirected.
  static void requireTls(weft::v1::RouteConfiguration& config, const Server& server, uint32_t port) {
    if (server.redirectHosts.empty()) return;
    for (auto& vhost : *config.mutable_virtual_hosts()) {
      std::string narrower;
      for (const auto& redirectHost : server.redirectHosts) {
        // Only a domain the redirect host covers (a wider one, "*", serves other hosts too).
        if (serverHostAdmits(redirectHost.host, vhost.domains(0), narrower) && narrower == vhost.domains(0)) vhost.set_require_tls(true);
      }
    }
    for (const auto& redirectHost : server.redirectHosts) {
      bool claimed = std::any_of(config.virtual_hosts().begin(), config.virtual_hosts().end(),
                                 [&](const weft::v1::VirtualHost& v) { return v.domains(0) == redirectHost.host; });
      if (claimed) continue;
      auto* vhost = config.add_virtual_hosts();
      vhost->set_name(fmt::format("{}:{}", redirectHost.host, port));
      vhost->add_domains(redirectHost.host);
      vhost->set_require_tls(true);
    }
  }

  // The tls[] routes of the port's passthrough servers, then the tcp[] routes of its TCP
  // servers, VirtualServices in Istio's order.
  std::vector<weft::v1::TcpRoute> tcpRoutesOf(const std::string& gatewayKey, uint32_t port, const Server& server) {
    std::vector<weft::v1::TcpRoute> out;
    if (server.passthroughHosts.empty() && server.tcpHosts.empty()) return out;
    auto noted = [this](const Object& vs, const std::string& what) { note(vs, what); };
    TcpRouteScope scope{gatewayKey, port};
    for (const Object* vs : virtualServices_) {
      if (!boundTo(*vs, gatewayKey)) continue;
      if (!server.passthroughHosts.empty() && admitted(*vs, server.passthroughHosts)) {
        SniAdmits sni = [&](const std::string& host) { return admits(*vs, server.passthroughHosts, host); };
        for (auto& r : tlsRoutesFor(routes_, *vs, scope, sni, noted)) out.push_back(std::move(r));
      }
      if (!server.tcpHosts.empty() && admitted(*vs, server.tcpHosts)) {
        for (auto& r : tcpRoutesFor(routes_, *vs, scope, noted)) out.push_back(std::move(r));
      }
    }
    return out;
  }

  // A terminated TLS server's tcp[] routes: those of the VirtualServices its hosts admit.
  std::vector<weft::v1::TcpRoute> terminatedTcpRoutes(const std::string& gatewayKey, uint32_t port, const std::vector<ServerHost>& hosts) {
    std::vector<weft::v1::TcpRoute> out;
    auto noted = [this](const Object& vs, const std::string& what) { note(vs, what); };
    for (const Object* vs : virtualServices_) {
      if (!boundTo(*vs, gatewayKey) || !admitted(*vs, hosts)) continue;
      for (auto& r : tcpRoutesFor(routes_, *vs, TcpRouteScope{gatewayKey, port}, noted)) out.push_back(std::move(r));
    }
    return out;
  }

  // The names of `host` (a VirtualService's) that the servers' hosts admit, each the narrower.
  static std::vector<std::string> admits(const Object& vs, const std::vector<ServerHost>& serverHosts, const std::string& host) {
    std::vector<std::string> names;
    for (const auto& serverHost : serverHosts) {
      std::string domain;
      if (!serverHost.ns.empty() && serverHost.ns != vs.ns()) continue;
      if (serverHostAdmits(serverHost.host, host, domain)) names.push_back(domain);
    }
    return names;
  }

  // Whether any host of `vs` is admitted by the servers' hosts.
  static bool admitted(const Object& vs, const std::vector<ServerHost>& serverHosts) {
    const auto& hosts = arrayAt(vs.value(), {"spec", "hosts"});
    return std::any_of(hosts.begin(), hosts.end(),
                       [&](const json::value& h) { return h.is_string() && !admits(vs, serverHosts, std::string(h.get_string())).empty(); });
  }

  const Object* destinationRuleFor(const std::string& host, const std::string& serviceNs) const {
    const Object* found = nullptr;
    for (const auto& dr : objectsOf(objects_, kDestinationRuleKind)) {
      if (resolveHost(stringAt(dr.value(), {"spec", "host"}), dr.ns()) != host) continue;
      if (dr.ns() == serviceNs) return &dr;
      if (found == nullptr) found = &dr;
    }
    return found;
  }

  // The cluster for host:port (subset), made on first use; returns its name.
  std::string cluster(const Object& vs, const std::string& host, uint32_t port, const std::string& subset) {
    auto service = servicesByHost_.find(host);
    const json::value* servicePort = nullptr;
    if (service != servicesByHost_.end()) {
      const auto& ports = arrayAt(service->second->value(), {"spec", "ports"});
      if (port == 0 && ports.size() == 1) port = static_cast<uint32_t>(intAt(ports[0], {"port"}));
      for (const auto& p : ports) {
        if (intAt(p, {"port"}) == port) servicePort = &p;
      }
    }
    const Object* entry = service == servicesByHost_.end() ? serviceEntryFor(objects_, host, vs.ns()) : nullptr;
    if (entry != nullptr) port = serviceEntryPort(*entry, port);
    std::string name = fmt::format("outbound|{}|{}|{}", port, subset, host);
    auto& clusters = build_.resources[kClusterType];
    // One cluster serves every route that names it, so it is a ServiceEntry's as soon as one
    // of those routes is in a namespace the entry is exported to, whichever comes first.
    if (auto made = clusters.find(name); made != clusters.end() && (entry == nullptr || made->second.cluster().service_known())) {
      return name;
    }
    weft::v1::Resource resource;
    resource.set_name(name);
    auto* c = resource.mutable_cluster();
    c->set_name(name);
    c->set_service_hostname(host);
    c->set_port(port);
    c->set_subset(subset);
    if (entry != nullptr) {
      serviceEntryCluster(vs, *entry, host, port, subset, *c);
    } else if (service == servicesByHost_.end()) {
      note(vs, fmt::format("destination host {} is not a known Service, nor a ServiceEntry host exported to namespace {}: its route answers 503",
                           host, vs.ns()));
    } else {
      const Object& svc = *service->second;
      c->set_service_known(true);
      c->set_service_namespace(svc.ns());
      const json::value* subsetLabels = nullptr;
      bool subsetFound = subset.empty();
      if (!subset.empty()) {
        if (const Object* dr = destinationRuleFor(host, svc.ns())) {
          for (const auto& s : arrayAt(dr->value(), {"spec", "subsets"})) {
            if (stringAt(s, {"name"}) == subset) {
              subsetLabels = &at(s, {"labels"});
              subsetFound = true;
            }
          }
        }
        if (!subsetFound) note(vs, fmt::format("subset {} of {} is defined by no DestinationRule: its route answers 503", subset, host));
      }
      if (servicePort == nullptr) note(vs, fmt::format("Service {} has no port {}: its route answers 503", host, port));
      if (const Object* dr = destinationRuleFor(host, svc.ns())) {
        applyTrafficPolicy(*dr, port, subset, *c, [&](const std::string& what) { note(*dr, what); });
        stampCredentialVersions(*c);
      }
      // A GRPC or HTTP2 port (appProtocol, else name prefix) is always reached over HTTP/2,
      // as Istio's cluster builder sets HTTP/2 options for it before any upgrade policy.
      if (servicePort != nullptr && model::speaksHttp2(model::servicePortProtocol(*servicePort))) {
        c->mutable_connection_pool()->set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
      }
      if (servicePort != nullptr && subsetFound) {
        for (const auto& pod : objectsOf(objects_, "Pod")) {
          std::string ip = stringAt(pod.value(), {"status", "podIP"});
          if (pod.ns() != svc.ns() || ip.empty() || !model::podReady(pod)) continue;
          if (!model::selectorMatches(at(svc.value(), {"spec", "selector"}), pod)) continue;
          if (subsetLabels != nullptr && !labelsMatch(*subsetLabels, pod)) continue;
          int target = model::resolveTargetPort(*servicePort, pod);
          if (target <= 0) continue;
          std::string endpoint = fmt::format("{}:{}", ip, target);
          c->add_endpoints(endpoint);
          if (std::string identity = meshIdentityOf(pod); !identity.empty()) (*c->mutable_hbone_identities())[endpoint] = identity;
        }
      }
    }
    clusters[name] = std::move(resource);
    return name;
  }

  // A ServiceEntry host's cluster: its DestinationRule (subsets pick endpoints by label),
  // then protocol and endpoints (service_entry_cluster.h). Outside the mesh: no HBONE.
  void serviceEntryCluster(const Object& vs, const Object& entry, const std::string& host, uint32_t port, const std::string& subset,
                           weft::v1::Cluster& c) {
    c.set_service_known(true);
    c.set_service_namespace(entry.ns());
    const Object* dr = destinationRuleFor(host, entry.ns());
    const json::value* subsetLabels = nullptr;
    if (!subset.empty()) {
      // Points into the DestinationRule itself, which outlives the cluster's compilation.
      if (dr != nullptr) {
        for (const auto& s : arrayAt(dr->value(), {"spec", "subsets"})) {
          if (stringAt(s, {"name"}) == subset) subsetLabels = &at(s, {"labels"});
        }
      }
      if (subsetLabels == nullptr) {
        note(vs, fmt::format("subset {} of {} is defined by no DestinationRule: its route answers 503", subset, host));
        return;
      }
    }
    if (dr != nullptr) {
      applyTrafficPolicy(*dr, port, subset, c, [&](const std::string& what) { note(*dr, what); });
      stampCredentialVersions(c);
    }
    ServiceEntryPods pods{objectsOf(objects_, "Pod"), [this](const Object& pod) { return meshIdentityOf(pod); }};
    auto noted = [&](const std::string& what) { note(entry, what); };
    if (!fillServiceEntryCluster(entry, port, subsetLabels, pods, c, noted)) {
      note(vs, fmt::format("ServiceEntry {}/{} has no port {}: its route answers 503", entry.ns(), entry.name(), port));
    }
  }

  // A tls credentialName is read by each proxy from its own namespace: every namespace's
  // versions of the Secret and of "<name>-cacert" (where the CA may live, as for Gateway
  // servers) go into the cluster, so a rotated Secret changes it and the proxies reload.
  void stampCredentialVersions(weft::v1::Cluster& c) const {
    const std::string name = c.tls().credential_name();
    if (name.empty()) return;
    std::set<std::string> namespaces;
    for (const auto& secret : objectsOf(objects_, "Secret")) {
      if (secret.name() == name || secret.name() == name + "-cacert") namespaces.insert(secret.ns());
    }
    auto& versions = *c.mutable_tls()->mutable_credential_versions();
    versions.clear();
    for (const auto& ns : namespaces) {
      std::string both;
      for (const std::string& secret : {name, name + "-cacert"}) {
        std::string version = secretVersion(ns, secret);
        if (!version.empty()) both += fmt::format("{}{}@{}", both.empty() ? "" : "+", secret, version);
      }
      versions[ns] = both;
    }
  }

  // The SPIFFE ID of a pod enrolled in the mesh, which proxies reach over HBONE; empty for
  // one that is not.
  std::string meshIdentityOf(const Object& pod) const {
    auto enrolled = meshIdentities_.find(pod.ns() + "/" + pod.name());
    return enrolled == meshIdentities_.end() ? "" : enrolled->second;
  }

  const ObjectsByKind& objects_;
  RegistryBuild& build_;
  const IngressAsIstio& fromIngresses_;
  std::map<std::string, const Object*> servicesByHost_;
  std::map<std::string, std::string> meshIdentities_;  // "<ns>/<pod>" -> SPIFFE ID, enrolled pods only
  std::vector<const Object*> virtualServices_;
  RouteCompiler routes_;
};

}  // namespace

const std::vector<std::string>& proxyViewKinds() {
  // Secrets: a Gateway's credentialName; their versions are in the Listeners.
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> k{kGatewayKind, kVirtualServiceKind, kDestinationRuleKind, kRateLimitPolicyKind, "Secret", kIngressKind, kIngressClassKind};
    for (const auto& extra : gatewayApiViewKinds()) k.push_back(extra);
    return k;
  }();
  return kinds;
}

void addProxyView(const ObjectsByKind& objects, RegistryBuild& build, const weft::v1::MeshConfig& mesh) {
  IngressAsIstio fromIngresses = ingressAsIstio(objects, ingressMeshSettings(mesh), build.notes);
  ProxyViewCompiler compiler(objects, build, fromIngresses);
  compiler.run();
  addGatewayApiView(objects, build, compiler.clusterMaker());
  addWaypointView(objects, build, compiler.clusterMaker());
  addRateLimitPolicies(objects, build);
}

}  // namespace weft::control
