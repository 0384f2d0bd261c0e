#include "proxy/proxy_config.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::proxy {

namespace {

// Ports the proxy serves itself; a listener there could never bind.
constexpr uint32_t kReservedPorts[] = {15000, 15020, 15021};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

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

bool selects(const weft::v1::Listener& listener, const Labels& podLabels) {
  // An empty selector selects nothing: a Gateway must say which proxies serve it.
  if (listener.selector().empty()) return false;
  for (const auto& [key, value] : listener.selector()) {
    auto found = podLabels.find(key);
    if (found == podLabels.end() || found->second != value) return false;
  }
  return true;
}

Result<CompiledVirtualHost> compileVirtualHost(const weft::v1::VirtualHost& spec, const std::string& config) {
  CompiledVirtualHost vhost;
  vhost.name = spec.name();
  for (const auto& d : spec.domains()) vhost.domains.push_back(lower(d));
  for (const auto& r : spec.routes()) {
    std::string where = fmt::format("{} route {}", config, r.name());
    CompiledRoute route;
    route.spec = r;
    if (r.has_redirect() == r.has_route()) return makeError("{}: exactly one of route and redirect must be set", where);
    if (r.has_route()) {
      if (r.route().clusters().empty()) return makeError("{}: no clusters", where);
      for (const auto& c : r.route().clusters()) route.totalWeight += c.weight();
      if (route.totalWeight == 0) return makeError("{}: the cluster weights add up to 0", where);
    }
    if (r.match().has_path()) {
      auto path = compile(r.match().path(), where + " path");
      if (!path) return path.error();
      route.path = std::move(*path);
    }
    for (const auto& h : r.match().headers()) {
      auto m = compile(h.match(), fmt::format("{} header {}", where, h.name()));
      if (!m) return m.error();
      route.headers.emplace_back(lower(h.name()), std::move(*m));
    }
    vhost.routes.push_back(std::move(route));
  }
  return vhost;
}

bool wildcardMatches(const std::string& domain, const std::string& host) {
  // "*.example.com" matches "a.example.com" and "a.b.example.com", never "example.com".
  std::string_view suffix = std::string_view(domain).substr(1);
  return host.size() > suffix.size() && host.ends_with(suffix);
}

}  // namespace

bool CompiledMatch::matches(std::string_view text, bool ignoreCase) const {
  switch (kind) {
    case Kind::kAny:
      return true;
    case Kind::kExact:
      return ignoreCase ? lower(text) == lower(value) : text == value;
    case Kind::kPrefix:
      return ignoreCase ? lower(text).starts_with(lower(value)) : text.starts_with(value);
    case Kind::kRegex:
      return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *regex);
  }
  return false;
}

std::string normalizeHost(std::string_view host) {
  if (host.starts_with("[")) {
    auto close = host.find(']');
    return lower(close == std::string_view::npos ? host : host.substr(0, close + 1));
  }
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  return lower(host);
}

std::shared_ptr<const ProxyConfig> ProxyConfig::empty() { return std::make_shared<const ProxyConfig>(); }

Result<std::shared_ptr<const ProxyConfig>> ProxyConfig::build(const xds::HeldResources& held, const Labels& podLabels) {
  auto config = std::make_shared<ProxyConfig>();
  static const std::map<std::string, weft::v1::Resource> none;
  auto of = [&](const char* type) -> const std::map<std::string, weft::v1::Resource>& {
    auto found = held.find(type);
    return found == held.end() ? none : found->second;
  };
  const auto& routeConfigs = of(kRouteConfigurationType);
  for (const auto& [name, resource] : of(kListenerType)) {
    if (!resource.has_listener()) return makeError("{}: not a Listener", name);
    const auto& listener = resource.listener();
    if (!selects(listener, podLabels)) continue;
    uint32_t bindPort = listener.bind_port() != 0 ? listener.bind_port() : listener.port();
    if (bindPort == 0 || bindPort > 65535) return makeError("listener {}: port {} is out of range", name, bindPort);
    if (std::find(std::begin(kReservedPorts), std::end(kReservedPorts), bindPort) != std::end(kReservedPorts)) {
      return makeError("listener {}: port {} is the proxy's own", name, bindPort);
    }
    if (listener.protocol() != weft::v1::Listener::HTTP) {
      config->skipped_.push_back(fmt::format("listener {}: HTTPS is not served by this proxy yet", name));
      continue;
    }
    auto& port = config->ports_[bindPort];
    port.port = bindPort;
    port.listeners.push_back(name);
    // The routes may arrive after the listener (another type, another response): until
    // then the port answers 404.
    auto routes = routeConfigs.find(listener.route_config_name());
    if (routes == routeConfigs.end()) continue;
    for (const auto& v : routes->second.route_configuration().virtual_hosts()) {
      auto vhost = compileVirtualHost(v, routes->first);
      if (!vhost) return vhost.error();
      // Two Gateways on one port: the first (by name) to claim a domain keeps it.
      bool taken = std::any_of(port.virtualHosts.begin(), port.virtualHosts.end(), [&](const CompiledVirtualHost& other) {
        return other.domains == vhost->domains;
      });
      if (!taken) port.virtualHosts.push_back(std::move(*vhost));
    }
  }
  for (const auto& [name, resource] : of(kClusterType)) {
    if (!resource.has_cluster()) return makeError("{}: not a Cluster", name);
    config->clusters_[name] = resource.cluster();
  }
  return std::shared_ptr<const ProxyConfig>(std::move(config));
}

const weft::v1::Cluster* ProxyConfig::cluster(const std::string& name) const {
  auto found = clusters_.find(name);
  return found == clusters_.end() ? nullptr : &found->second;
}

const CompiledVirtualHost* ProxyConfig::virtualHost(uint32_t port, std::string_view hostHeader) const {
  auto found = ports_.find(port);
  if (found == ports_.end()) return nullptr;
  std::string host = normalizeHost(hostHeader);
  const CompiledVirtualHost* best = nullptr;
  size_t bestLength = 0;
  const CompiledVirtualHost* any = nullptr;
  for (const auto& vhost : found->second.virtualHosts) {
    for (const auto& domain : vhost.domains) {
      if (domain == host) return &vhost;
      if (domain == "*") {
        if (any == nullptr) any = &vhost;
      } else if (domain.starts_with("*.") && wildcardMatches(domain, host) && domain.size() > bestLength) {
        best = &vhost;
        bestLength = domain.size();
      }
    }
  }
  return best != nullptr ? best : any;
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
    bool headersMatch = std::all_of(route.headers.begin(), route.headers.end(), [&](const auto& h) {
      auto value = request.header(h.first);
      return value.has_value() && h.second.matches(*value);
    });
    if (headersMatch) return &route;
  }
  return nullptr;
}

}  // namespace weft::proxy
