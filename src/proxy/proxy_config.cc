#include "proxy/proxy_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <iterator>
#include <tuple>

#include "base/ascii.h"
#include "proxy/host_match.h"
#include "proxy/dns_endpoints.h"

namespace weft::proxy {

namespace {

// Ports the proxy serves itself; a listener there could never bind.
constexpr uint32_t kReservedPorts[] = {15000, 15020, 15021};

Result<CompiledMatch> compile(const weft::v1::StringMatch& spec, const std::string& where) {
  CompiledMatch m;
  switch (spec.kind_case()) {
    case weft::v1::StringMatch::kExact:
      m.kind = CompiledMatch::Kind::kExact;
      m.value = spec.exact();
      break;
    case weft::v1::StringMatch::kPrefix:
      m.kind = CompiledMatch::Kind::kPrefix;
      m.value = spec.prefix();
      break;
    case weft::v1::StringMatch::kRegex: {
      m.kind = CompiledMatch::Kind::kRegex;
      m.value = spec.regex();
      auto re = std::make_shared<RE2>(spec.regex(), RE2::Quiet);
      if (!re->ok()) return makeError("{}: regex {:?}: {}", where, spec.regex(), re->error());
      m.regex = std::move(re);
      break;
    }
    case weft::v1::StringMatch::KIND_NOT_SET:
      break;
  }
  return m;
}

// Whether the pod carries every one of `wanted`.
bool hasLabels(const google::protobuf::Map<std::string, std::string>& wanted, const Labels& podLabels) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const auto& label) {
    auto found = podLabels.find(label.first);
    return found != podLabels.end() && found->second == label.second;
  });
}

bool selects(const weft::v1::Listener& listener, const Labels& podLabels) {
  // An empty selector selects nothing: a Gateway must say which proxies serve it.
  return !listener.selector().empty() && hasLabels(listener.selector(), podLabels);
}

Result<CompiledVirtualHost> compileVirtualHost(const weft::v1::VirtualHost& spec, const std::string& config) {
  CompiledVirtualHost vhost;
  vhost.name = spec.name();
  vhost.requireTls = spec.require_tls();
  for (const auto& d : spec.domains()) vhost.domains.push_back(asciiLower(d));
  for (const auto& r : spec.routes()) {
    std::string where = fmt::format("{} route {}", config, r.name());
    CompiledRoute route;
    route.spec = r;
    if (int(r.has_redirect()) + int(r.has_route()) + int(r.has_direct_response()) != 1) {
      return makeError("{}: exactly one of route, redirect and direct_response must be set", where);
    }
    if (r.has_route()) {
      if (r.route().clusters().empty()) return makeError("{}: no clusters", where);
      for (const auto& c : r.route().clusters()) route.totalWeight += c.weight();
      if (route.totalWeight == 0) return makeError("{}: the cluster weights add up to 0", where);
      if (const auto& pattern = r.route().rewrite().uri_regex(); !pattern.empty()) {
        auto re = std::make_shared<RE2>(pattern, RE2::Quiet);
        if (!re->ok()) return makeError("{}: uriRegexRewrite {:?}: {}", where, pattern, re->error());
        std::string why;
        if (!re->CheckRewriteString(r.route().rewrite().uri_regex_substitution(), &why)) {
          return makeError("{}: uriRegexRewrite substitution {:?}: {}", where, r.route().rewrite().uri_regex_substitution(), why);
        }
        route.rewriteRegex = std::move(re);
      }
    }
    if (r.match().has_path()) {
      auto path = compile(r.match().path(), where + " path");
      if (!path) return path.error();
      route.path = std::move(*path);
    }
    for (auto [spec, target, what] : {std::tuple{&r.match().method(), &route.method, "method"},
                                      std::tuple{&r.match().authority(), &route.authority, "authority"},
                                      std::tuple{&r.match().scheme(), &route.scheme, "scheme"}}) {
      auto m = compile(*spec, fmt::format("{} {}", where, what));
      if (!m) return m.error();
      *target = std::move(*m);
    }
    for (auto [specs, target, claims, what] : {std::tuple{&r.match().headers(), &route.headers, &route.claims, "header"},
                                               std::tuple{&r.match().without_headers(), &route.withoutHeaders, &route.withoutClaims, "withoutHeader"}}) {
      for (const auto& h : *specs) {
        auto m = compile(h.match(), fmt::format("{} {} {}", where, what, h.name()));
        if (!m) return m.error();
        if (auto claim = jwtClaimPath(h.name())) {
          claims->emplace_back(std::move(*claim), std::move(*m));
        } else {
          target->emplace_back(asciiLower(h.name()), std::move(*m));
        }
      }
    }
    for (const auto& q : r.match().query_params()) {
      auto m = compile(q.match(), fmt::format("{} query parameter {}", where, q.name()));
      if (!m) return m.error();
      route.queryParams.emplace_back(q.name(), std::move(*m));
    }
    for (const auto& origin : r.cors().allow_origins()) {
      auto m = compile(origin, where + " CORS origin");
      if (!m) return m.error();
      route.corsOrigins.push_back(std::move(*m));
    }
    if (r.fault().abort_status() != 0 && (r.fault().abort_status() < 200 || r.fault().abort_status() > 599)) {
      return makeError("{}: fault abort status {} is not an HTTP status", where, r.fault().abort_status());
    }
    vhost.routes.push_back(std::move(route));
  }
  return vhost;
}

PortRoutes::Kind kindOf(weft::v1::Listener::Protocol protocol) {
  switch (protocol) {
    case weft::v1::Listener::HTTPS:
    case weft::v1::Listener::TLS:
      return PortRoutes::Kind::kTls;
    case weft::v1::Listener::TCP:
      return PortRoutes::Kind::kTcp;
    default:
      return PortRoutes::Kind::kHttp;
  }
}

const char* describe(PortRoutes::Kind kind) {
  switch (kind) {
    case PortRoutes::Kind::kTls:
      return "TLS";
    case PortRoutes::Kind::kTcp:
      return "TCP";
    default:
      return "plain HTTP";
  }
}

// A listener's tls[] and tcp[] routes. One without a weighted cluster (a TLSRoute whose
// backends all have weight 0 or are refused) still takes its connections, and closes them,
// as the Gateway API asks.
std::vector<CompiledTcpRoute> compileTcpRoutes(const weft::v1::Listener& listener) {
  std::vector<CompiledTcpRoute> out;
  for (const auto& spec : listener.tcp_routes()) out.push_back(compileTcpRoute(spec));
  return out;
}

// A cluster's SIMPLE or MUTUAL client TLS, built now so a bad rule is reported with the
// snapshot; nullopt for none (DISABLE) and for ISTIO_MUTUAL, which the gateway makes from
// its own workload certificate.
std::optional<ClusterTls> clusterTlsFor(const weft::v1::Cluster& cluster, const CredentialLoader& credentials, const std::string& podNamespace) {
  auto mode = cluster.tls().mode();
  if (mode != weft::v1::UpstreamTls::SIMPLE && mode != weft::v1::UpstreamTls::MUTUAL) return std::nullopt;
  auto material = loadUpstreamTlsMaterial(cluster.tls(), credentials, podNamespace);
  if (!material) return ClusterTls{nullptr, fmt::format("tls: {}", material.error().message)};
  auto made = UpstreamTls::make(cluster.tls(), *material);
  if (!made) return ClusterTls{nullptr, fmt::format("tls: {}", made.error().message)};
  return ClusterTls{std::move(*made), ""};
}

// Whether a route's source (a VirtualService match's sourceLabels and sourceNamespace at
// a Gateway, whose workload is the source) describes this proxy's pod.
bool describesPod(const weft::v1::RouteSource& source, const Labels& podLabels, const std::string& podNamespace) {
  if (!source.namespace_().empty() && source.namespace_() != podNamespace) return false;
  return hasLabels(source.labels(), podLabels);
}

// A TCP route applies here when it names no source or one that describes the pod.
bool appliesToPod(const weft::v1::TcpRoute& route, const Labels& podLabels, const std::string& podNamespace) {
  return route.sources().empty() ||
         std::any_of(route.sources().begin(), route.sources().end(), [&](const auto& s) { return describesPod(s, podLabels, podNamespace); });
}

// A server's certificate and CA: its credentialName Secret (and "<name>-cacert", where
// Istio also reads the CA), or for ISTIO_MUTUAL the proxy's own.
Result<ServerCredential> serverCredential(const weft::v1::TlsServer& server, const CredentialLoader& credentials,
                                          const WorkloadCredential& workload) {
  if (server.mode() == weft::v1::TlsServer::ISTIO_MUTUAL) {
    std::optional<ServerCredential> own = workload ? workload() : std::nullopt;
    if (!own) return makeError("no workload certificate yet");
    return *own;
  }
  if (!credentials) return makeError("no credential source");
  auto credential = credentials(server.credential_namespace(), server.credential_name());
  if (credential && server.mode() != weft::v1::TlsServer::SIMPLE && credential->caCertificatesPem.empty()) {
    auto ca = credentials(server.credential_namespace(), server.credential_name() + "-cacert");
    if (ca) credential->caCertificatesPem = !ca->caCertificatesPem.empty() ? ca->caCertificatesPem : ca->certificateChainPem;
  }
  return credential;
}

// `awaitingOwnCertificate`: set when a server was left out only for want of the proxy's
// own certificate, which arrives on its own (the port stays bound meanwhile).
std::shared_ptr<TlsListener> tlsListenerFor(const weft::v1::Listener& listener, const CredentialLoader& credentials,
                                            const WorkloadCredential& workload, std::vector<std::string>& skipped, const Labels& podLabels,
                                            const std::string& podNamespace, bool& awaitingOwnCertificate) {
  auto out = std::make_shared<TlsListener>();
  for (weft::v1::TlsServer server : listener.tls_servers()) {
    // A terminated server's routes for other proxies are not this one's.
    auto* routes = server.mutable_tcp_routes();
    routes->erase(std::remove_if(routes->begin(), routes->end(), [&](const auto& r) { return !appliesToPod(r, podLabels, podNamespace); }),
                  routes->end());
    std::string what = server.mode() == weft::v1::TlsServer::ISTIO_MUTUAL
                           ? fmt::format("listener {}: ISTIO_MUTUAL server", listener.name())
                           : fmt::format("listener {}: HTTPS server with credentialName {}/{}", listener.name(), server.credential_namespace(),
                                         server.credential_name());
    auto credential = serverCredential(server, credentials, workload);
    if (!credential) {
      if (server.mode() == weft::v1::TlsServer::ISTIO_MUTUAL) awaitingOwnCertificate = true;
      skipped.push_back(fmt::format("{}: {}", what, credential.error().message));
      continue;
    }
    auto context = TlsListener::buildContext(server, *credential);
    if (!context) {
      skipped.push_back(fmt::format("{}: {}", what, context.error().message));
      continue;
    }
    out->add(server, std::move(*context));
  }
  return out;
}

// Two Gateways' HTTPS servers on one port: one listener with the servers of both.
std::shared_ptr<TlsListener> mergeTls(const std::shared_ptr<TlsListener>& first, const std::shared_ptr<TlsListener>& second) {
  auto merged = std::make_shared<TlsListener>();
  merged->append(*first);
  merged->append(*second);
  return merged;
}

}  // namespace

bool CompiledMatch::matches(std::string_view text, bool ignoreCase) const {
  switch (kind) {
    case Kind::kAny:
      return true;
    case Kind::kExact:
      return ignoreCase ? asciiLower(text) == asciiLower(value) : text == value;
    case Kind::kPrefix:
      return ignoreCase ? asciiLower(text).starts_with(asciiLower(value)) : text.starts_with(value);
    case Kind::kRegex:
      return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *regex);
  }
  return false;
}

std::string normalizeHost(std::string_view host) {
  if (host.starts_with("[")) {
    auto close = host.find(']');
    return asciiLower(close == std::string_view::npos ? host : host.substr(0, close + 1));
  }
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  return asciiLower(host);
}

std::optional<std::string_view> queryParameter(std::string_view target, std::string_view name) {
  auto question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::shared_ptr<const ProxyConfig> ProxyConfig::empty() { return std::make_shared<const ProxyConfig>(); }

CompiledTcpRoute compileTcpRoute(const weft::v1::TcpRoute& spec) {
  CompiledTcpRoute route{spec};
  for (const auto& host : spec.sni_hosts()) route.sniHosts.push_back(asciiLower(host));
  for (const auto& c : spec.clusters()) route.totalWeight += c.weight();
  return route;
}

Result<std::shared_ptr<const ProxyConfig>> ProxyConfig::build(const xds::HeldResources& held, const Labels& podLabels,
                                                               const CredentialLoader& credentials, const std::string& podNamespace,
                                                               const ResolvedNames& resolved, const WorkloadCredential& workload) {
  auto config = std::make_shared<ProxyConfig>();
  static const std::map<std::string, weft::v1::Resource> none;
  auto of = [&](const char* type) -> const std::map<std::string, weft::v1::Resource>& {
    auto found = held.find(type);
    return found == held.end() ? none : found->second;
  };
  const auto& routeConfigs = of(kRouteConfigurationType);
  std::vector<std::shared_ptr<WaypointTarget>> waypointTargets;
  for (const auto& [name, resource] : of(kListenerType)) {
    if (!resource.has_listener()) return makeError("{}: not a Listener", name);
    const auto& listener = resource.listener();
    if (!selects(listener, podLabels)) continue;
    if (!listener.waypoint_authorities().empty()) {
      // A waypoint's pods are selected by Gateway name; the namespace makes it this one.
      if (!listener.gateway().starts_with(podNamespace + "/")) continue;
      auto target = std::make_shared<WaypointTarget>();
      target->listener = name;
      target->gateway = listener.gateway();
      target->service = listener.waypoint_service();
      target->port = listener.port();
      target->kind = listener.detect_protocol()                         ? WaypointTarget::Kind::kDetect
                     : listener.protocol() == weft::v1::Listener::TCP ? WaypointTarget::Kind::kTcp
                                                                       : WaypointTarget::Kind::kHttp;
      target->tcpRoutes = compileTcpRoutes(listener);
      if (target->kind != WaypointTarget::Kind::kHttp && target->tcpRoutes.empty()) {
        return makeError("listener {}: a TCP waypoint port without a route", name);
      }
      auto routes = routeConfigs.find(listener.route_config_name());
      if (routes != routeConfigs.end()) {
        for (const auto& v : routes->second.route_configuration().virtual_hosts()) {
          auto vhost = compileVirtualHost(v, routes->first);
          if (!vhost) return vhost.error();
          vhost->gateway = listener.gateway();
          target->virtualHosts.push_back(std::move(*vhost));
        }
      }
      for (const auto& authority : listener.waypoint_authorities()) config->waypointTargets_[authority] = target;
      waypointTargets.push_back(std::move(target));
      continue;
    }
    uint32_t bindPort = listener.bind_port() != 0 ? listener.bind_port() : listener.port();
    if (bindPort == 0 || bindPort > 65535) return makeError("listener {}: port {} is out of range", name, bindPort);
    if (std::find(std::begin(kReservedPorts), std::end(kReservedPorts), bindPort) != std::end(kReservedPorts)) {
      return makeError("listener {}: port {} is the proxy's own", name, bindPort);
    }
    auto kind = kindOf(listener.protocol());
    std::shared_ptr<TlsListener> tls;
    if (listener.protocol() == weft::v1::Listener::HTTPS) {
      bool awaitingOwnCertificate = false;
      tls = tlsListenerFor(listener, credentials, workload, config->skipped_, podLabels, podNamespace, awaitingOwnCertificate);
      if (tls->empty()) {
        tls = nullptr;
        // A server waiting for the proxy's certificate keeps its port bound (its clients are
        // closed, NR, until it comes), as Envoy keeps a listener warming for its secret:
        // the rebuild that the certificate brings cannot bind ports, only discovery can.
        if (listener.tcp_routes().empty() && !awaitingOwnCertificate) {
          config->skipped_.push_back(fmt::format("listener {}: no HTTPS server on it can be served: port {} is not bound", name, bindPort));
          continue;
        }
      }
    }
    auto existing = config->ports_.find(bindPort);
    if (existing != config->ports_.end() && existing->second.kind != kind) {
      config->skipped_.push_back(fmt::format("listener {}: port {} already serves {}", name, bindPort, describe(existing->second.kind)));
      continue;
    }
    auto& port = config->ports_[bindPort];
    port.kind = kind;
    if (tls) port.tls = port.tls ? mergeTls(port.tls, tls) : tls;
    for (auto& r : compileTcpRoutes(listener)) {
      if (appliesToPod(r.spec, podLabels, podNamespace)) port.tcpRoutes.push_back(std::move(r));
    }
    port.port = bindPort;
    port.listeners.push_back(name);
    // The routes may arrive after the listener (another type, another response): until
    // then the port answers 404.
    auto routes = routeConfigs.find(listener.route_config_name());
    if (routes == routeConfigs.end()) continue;
    for (const auto& v : routes->second.route_configuration().virtual_hosts()) {
      auto vhost = compileVirtualHost(v, routes->first);
      if (!vhost) return vhost.error();
      vhost->gateway = listener.gateway();
      for (auto& r : vhost->routes) r.gateway = listener.gateway();
      std::erase_if(vhost->routes, [&](const CompiledRoute& r) {
        return r.spec.match().has_source() && !describesPod(r.spec.match().source(), podLabels, podNamespace);
      });
      // Nothing here for this pod: the domain stays free (unless it is there to redirect).
      if (vhost->routes.empty() && !vhost->requireTls) continue;
      // Two Gateways on one port with a domain in common: one virtual host with the routes
      // of both, the first Gateway's (by name) first, as Istio merges a port's servers.
      auto same = std::find_if(port.virtualHosts.begin(), port.virtualHosts.end(),
                               [&](const CompiledVirtualHost& other) { return other.domains == vhost->domains; });
      if (same == port.virtualHosts.end()) {
        port.virtualHosts.push_back(std::move(*vhost));
      } else {
        std::move(vhost->routes.begin(), vhost->routes.end(), std::back_inserter(same->routes));
        same->requireTls = same->requireTls || vhost->requireTls;
      }
    }
  }
  std::string rootNamespace = "istio-system";
  for (const auto& [name, resource] : of(kMeshConfigType)) {
    if (!resource.has_mesh_config()) continue;
    if (!resource.mesh_config().root_namespace().empty()) rootNamespace = resource.mesh_config().root_namespace();
    if (resource.mesh_config().access_log_file().empty()) continue;
    config->accessLog_ = resource.mesh_config().access_log_encoding() == "JSON" ? AccessLog::kJson : AccessLog::kText;
  }
  std::vector<weft::v1::HttpAuthorization> policies;
  for (const auto& [name, resource] : of(kHttpAuthorizationType)) {
    if (!resource.has_http_authorization()) return makeError("{}: not an HttpAuthorization", name);
    policies.push_back(resource.http_authorization());
  }
  config->authorizer_ = HttpAuthorizer::forWorkload(policies, podNamespace, podLabels, rootNamespace);
  std::vector<weft::v1::JwtAuthentication> authentications;
  for (const auto& [name, resource] : of(kJwtAuthenticationType)) {
    if (!resource.has_jwt_authentication()) return makeError("{}: not a JwtAuthentication", name);
    authentications.push_back(resource.jwt_authentication());
  }
  config->authenticator_ = JwtAuthenticator::forWorkload(authentications, podNamespace, podLabels, rootNamespace, config->skipped_);
  std::set<std::string> targetProblems;  // one policy may reach many Services: said once
  for (auto& target : waypointTargets) {
    std::vector<std::string> problems;
    target->authenticator = JwtAuthenticator::forWaypointTarget(authentications, target->gateway, target->service, problems);
    targetProblems.insert(problems.begin(), problems.end());
  }
  config->skipped_.insert(config->skipped_.end(), targetProblems.begin(), targetProblems.end());
  for (auto& target : waypointTargets) target->authorizer = HttpAuthorizer::forWaypointTarget(policies, target->gateway, target->service);
  for (const auto& [name, resource] : of(kClusterType)) {
    if (!resource.has_cluster()) return makeError("{}: not a Cluster", name);
    auto& cluster = config->clusters_[name] = resource.cluster();
    addResolvedEndpoints(cluster, resolved);
    if (auto tls = clusterTlsFor(resource.cluster(), credentials, podNamespace)) {
      if (!tls->error.empty()) config->skipped_.push_back(fmt::format("cluster {}: {}: its requests answer 503", name, tls->error));
      config->clusterTls_[name] = std::move(*tls);
    }
  }
  auto rateLimits = RateLimitTable::build(of(kRateLimitPolicyType));
  if (!rateLimits) return rateLimits.error();
  config->rateLimits_ = std::move(*rateLimits);
  return std::shared_ptr<const ProxyConfig>(std::move(config));
}

const ClusterTls* ProxyConfig::clusterTls(const std::string& name) const {
  auto found = clusterTls_.find(name);
  return found == clusterTls_.end() ? nullptr : &found->second;
}

const weft::v1::Cluster* ProxyConfig::cluster(const std::string& name) const {
  auto found = clusters_.find(name);
  return found == clusters_.end() ? nullptr : &found->second;
}

const WaypointTarget* ProxyConfig::waypointTarget(const std::string& authority) const {
  auto found = waypointTargets_.find(authority);
  return found == waypointTargets_.end() ? nullptr : found->second.get();
}

const CompiledVirtualHost* ProxyConfig::virtualHost(uint32_t port, std::string_view hostHeader) const {
  auto found = ports_.find(port);
  if (found == ports_.end()) return nullptr;
  return virtualHost(found->second.virtualHosts, hostHeader);
}

namespace {

// Of `candidates`, the one whose `domains` (lower case) match `host` best (host_match.h),
// the first of equals.
template <class Candidate, class DomainsOf>
const Candidate* pickByDomain(const std::vector<Candidate>& candidates, const std::string& host, DomainsOf domainsOf) {
  const Candidate* best = nullptr;
  size_t bestRank = kNoHostMatch;
  for (const auto& candidate : candidates) {
    for (const auto& domain : domainsOf(candidate)) {
      size_t rank = hostMatchRank(domain, host);
      if (rank > bestRank) {
        best = &candidate;
        bestRank = rank;
      }
    }
  }
  return best;
}

}  // namespace

const CompiledVirtualHost* ProxyConfig::virtualHost(const std::vector<CompiledVirtualHost>& candidates, std::string_view hostHeader) {
  return pickByDomain(candidates, normalizeHost(hostHeader), [](const CompiledVirtualHost& v) -> const auto& { return v.domains; });
}

size_t ProxyConfig::matchRank(const CompiledTcpRoute& route, std::string_view sni) {
  std::string host = asciiLower(sni);
  size_t best = kNoHostMatch;
  for (const auto& name : route.sniHosts) best = std::max(best, hostMatchRank(name, host));
  return best;
}

const CompiledTcpRoute* ProxyConfig::tcpRoute(const PortRoutes& port, std::string_view sni) {
  if (port.kind == PortRoutes::Kind::kTcp) return port.tcpRoutes.empty() ? nullptr : &port.tcpRoutes.front();
  return pickByDomain(port.tcpRoutes, asciiLower(sni), [](const CompiledTcpRoute& r) -> const auto& { return r.sniHosts; });
}

const CompiledTcpRoute* ProxyConfig::waypointTcpRoute(const WaypointTarget& target, std::string_view sni) {
  if (!sni.empty()) {
    if (const auto* named = pickByDomain(target.tcpRoutes, asciiLower(sni), [](const CompiledTcpRoute& r) -> const auto& { return r.sniHosts; })) {
      return named;
    }
  }
  auto anyName = std::find_if(target.tcpRoutes.begin(), target.tcpRoutes.end(), [](const auto& r) { return r.sniHosts.empty(); });
  return anyName == target.tcpRoutes.end() ? nullptr : &*anyName;
}

bool ProxyConfig::routesBySni(const std::vector<CompiledTcpRoute>& routes) {
  return std::any_of(routes.begin(), routes.end(), [](const auto& r) { return !r.sniHosts.empty(); });
}

std::optional<std::string> jwtClaimPath(std::string_view name) {
  constexpr std::string_view kPrefix = "@request.auth.claims";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = name.substr(kPrefix.size());
  if (rest.starts_with("[")) return std::string(rest);
  if (!rest.starts_with(".") || rest.size() < 2) return std::nullopt;
  std::string path;
  rest.remove_prefix(1);
  while (true) {
    auto dot = rest.find('.');
    // An empty name ("a..b", a trailing dot) names no claim, as in Istio: never matched.
    if (dot == 0 || rest.empty()) return std::nullopt;
    path += "[" + std::string(rest.substr(0, dot)) + "]";
    if (dot == std::string_view::npos) return path;
    rest = rest.substr(dot + 1);
  }
}

const CompiledRoute* ProxyConfig::route(const CompiledVirtualHost& vhost, const RequestView& request) {
  std::string_view full = request.target;
  std::string_view path = full.substr(0, full.find('?'));
  for (const auto& route : vhost.routes) {
    bool ignoreCase = route.spec.match().ignore_uri_case();
    // Envoy matches a prefix against the whole :path, exact and regex against the path
    // without its query.
    std::string_view subject = route.path.kind == CompiledMatch::Kind::kPrefix ? full : path;
    if (!route.path.matches(subject, ignoreCase && route.path.kind != CompiledMatch::Kind::kRegex)) continue;
    if (!route.method.matches(request.method) || !route.authority.matches(request.host) || !route.scheme.matches(request.scheme)) continue;
    bool headersMatch = std::all_of(route.headers.begin(), route.headers.end(), [&](const auto& h) {
      auto value = request.header(h.first);
      return value.has_value() && h.second.matches(*value);
    });
    // withoutHeaders: a header that is absent, or present and not matching, lets the route match.
    bool withoutMatch = std::none_of(route.withoutHeaders.begin(), route.withoutHeaders.end(), [&](const auto& h) {
      auto value = request.header(h.first);
      return value.has_value() && h.second.matches(*value);
    });
    bool queryMatch = std::all_of(route.queryParams.begin(), route.queryParams.end(), [&](const auto& q) {
      auto value = queryParameter(full, q.first);
      return value.has_value() && q.second.matches(*value);
    });
    // JWT claims (Istio's claim-based routing): a list claim matches by any of its strings;
    // without a verified token no claim is present.
    auto claimMatches = [&](const auto& c) {
      if (request.jwt == nullptr) return false;
      auto strings = jwtClaimStrings(*request.jwt, c.first);
      return strings.has_value() && std::any_of(strings->begin(), strings->end(), [&](const std::string& s) { return c.second.matches(s); });
    };
    bool claimsMatch = std::all_of(route.claims.begin(), route.claims.end(), claimMatches) &&
                       std::none_of(route.withoutClaims.begin(), route.withoutClaims.end(), claimMatches);
    if (headersMatch && withoutMatch && queryMatch && claimsMatch) return &route;
  }
  return nullptr;
}

}  // namespace weft::proxy
