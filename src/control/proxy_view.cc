#include "control/proxy_view.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <tuple>

#include "base/duration.h"
#include "model/json_access.h"
#include "model/service_ports.h"

namespace weft::control {

namespace json = boost::json;
using model::at;
using model::Object;
using model::stringAt;

namespace {

constexpr const char* kGatewayKind = "Gateway.networking.istio.io";
constexpr const char* kVirtualServiceKind = "VirtualService.networking.istio.io";
constexpr const char* kDestinationRuleKind = "DestinationRule.networking.istio.io";

// Istio's default retry policy when a route sets none: two attempts on connection
// failures and 503s.
constexpr uint32_t kDefaultRetryAttempts = 2;
constexpr const char* kDefaultRetryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

const std::vector<Object>& objectsOf(const ObjectsByKind& objects, const std::string& kind) {
  static const std::vector<Object> none;
  auto found = objects.find(kind);
  return found == objects.end() ? none : found->second;
}

const json::array& arrayAt(const json::value& v, std::initializer_list<std::string_view> path) {
  static const json::array none;
  const auto& found = at(v, path);
  return found.is_array() ? found.get_array() : none;
}

int64_t intAt(const json::value& v, std::initializer_list<std::string_view> path) {
  const auto& found = at(v, path);
  if (found.is_int64()) return found.get_int64();
  if (found.is_uint64()) return static_cast<int64_t>(found.get_uint64());
  return 0;
}

bool podReady(const Object& pod) {
  for (const auto& c : arrayAt(pod.value(), {"status", "conditions"})) {
    if (stringAt(c, {"type"}) == "Ready") return stringAt(c, {"status"}) == "True";
  }
  return false;
}

bool labelsMatch(const json::value& wanted, const Object& pod) {
  if (!wanted.is_object()) return true;
  for (const auto& [key, value] : wanted.get_object()) {
    if (!value.is_string() || pod.label(key) != value.get_string()) return false;
  }
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Result<uint32_t> durationMs(const json::value& spec, std::initializer_list<std::string_view> path) {
  std::string text = stringAt(spec, path);
  if (text.empty()) return 0u;
  auto parsed = parseDuration(text);
  if (!parsed) return parsed.error();
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(*parsed).count());
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

struct Server {
  weft::v1::Listener::Protocol protocol = weft::v1::Listener::HTTP;
  std::vector<ServerHost> hosts;
  std::vector<std::string> written;
};

class ProxyViewCompiler {
 public:
  ProxyViewCompiler(const ObjectsByKind& objects, RegistryBuild& build) : objects_(objects), build_(build) {
    for (const auto& service : objectsOf(objects, "Service")) {
      servicesByHost_[service.name() + "." + service.ns() + ".svc.cluster.local"] = &service;
    }
    for (const auto& vs : objectsOf(objects, kVirtualServiceKind)) virtualServices_.push_back(&vs);
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
      if (protocol == "HTTPS") {
        entry.protocol = weft::v1::Listener::HTTPS;
      } else if (protocol != "HTTP" && protocol != "HTTP2" && protocol != "GRPC") {
        note(gateway, fmt::format("server on port {} has protocol {}: only HTTP and HTTPS are compiled", number, protocol));
        continue;
      }
      for (const auto& host : arrayAt(server, {"hosts"})) {
        if (!host.is_string()) continue;
        entry.written.emplace_back(host.get_string());
        entry.hosts.push_back(parseServerHost(std::string(host.get_string()), gateway.ns()));
      }
    }
    for (const auto& [port, server] : ports) {
      if (server.hosts.empty()) continue;
      weft::v1::Resource listenerResource;
      listenerResource.set_name(fmt::format("{}/{}", gatewayKey, port));
      auto* listener = listenerResource.mutable_listener();
      listener->set_name(listenerResource.name());
      listener->set_port(port);
      listener->set_bind_port(bindPortFor(at(gateway.value(), {"spec", "selector"}), port));
      listener->set_protocol(server.protocol);
      for (const auto& h : server.written) listener->add_server_hosts(h);
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
      std::string name(g.get_string());
      if (name.find('/') == std::string::npos) name = vs.ns() + "/" + name;
      if (name == gatewayKey) return true;
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
            routes = compileRoutes(*vs);
            compiled = true;
          }
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
          break;
        }
      }
    }
    (void)gateway;
    return config;
  }

  std::optional<weft::v1::StringMatch> stringMatch(const json::value& spec, const Object& vs, const std::string& where) {
    weft::v1::StringMatch match;
    if (!at(spec, {"exact"}).is_null()) {
      match.set_exact(stringAt(spec, {"exact"}));
    } else if (!at(spec, {"prefix"}).is_null()) {
      match.set_prefix(stringAt(spec, {"prefix"}));
    } else if (!at(spec, {"regex"}).is_null()) {
      RE2 re(stringAt(spec, {"regex"}), RE2::Quiet);
      if (!re.ok()) {
        note(vs, fmt::format("{}: regex {:?} does not compile ({}): the route is left out", where, stringAt(spec, {"regex"}), re.error()));
        return std::nullopt;
      }
      match.set_regex(stringAt(spec, {"regex"}));
    } else {
      note(vs, fmt::format("{}: a match without exact, prefix or regex is left out", where));
      return std::nullopt;
    }
    return match;
  }

  static void headerOperations(const json::value& spec, weft::v1::HeaderOperations& out) {
    for (const char* field : {"set", "add"}) {
      const auto& m = at(spec, {field});
      if (!m.is_object()) continue;
      for (const auto& [key, value] : m.get_object()) {
        if (!value.is_string()) continue;
        auto& target = std::string_view(field) == "set" ? *out.mutable_set() : *out.mutable_add();
        target[lower(std::string(key))] = std::string(value.get_string());
      }
    }
    for (const auto& name : arrayAt(spec, {"remove"})) {
      if (name.is_string()) out.add_remove(lower(std::string(name.get_string())));
    }
  }

  // One Route per match block (they are alternatives), all sharing one action.
  std::vector<weft::v1::Route> compileRoutes(const Object& vs) {
    std::vector<weft::v1::Route> out;
    size_t index = 0;
    for (const auto& http : arrayAt(vs.value(), {"spec", "http"})) {
      std::string where = fmt::format("http[{}]", index);
      std::string routeName = stringAt(http, {"name"});
      if (routeName.empty()) routeName = std::to_string(index);
      ++index;
      weft::v1::Route base;
      base.set_name(fmt::format("{}/{}/{}", vs.ns(), vs.name(), routeName));
      if (!compileAction(vs, http, where, base)) continue;
      headerOperations(at(http, {"headers", "request"}), *base.mutable_request_headers());
      headerOperations(at(http, {"headers", "response"}), *base.mutable_response_headers());
      const auto& matches = arrayAt(http, {"match"});
      if (matches.empty()) {
        out.push_back(std::move(base));
        continue;
      }
      for (size_t m = 0; m < matches.size(); ++m) {
        const auto& match = matches[m];
        std::string matchWhere = fmt::format("{}.match[{}]", where, m);
        weft::v1::Route route = base;
        auto* rm = route.mutable_match();
        bool ok = true;
        if (!at(match, {"uri"}).is_null()) {
          auto path = stringMatch(at(match, {"uri"}), vs, matchWhere + ".uri");
          if (path) *rm->mutable_path() = *path;
          ok = path.has_value();
        }
        rm->set_ignore_uri_case(at(match, {"ignoreUriCase"}) == json::value(true));
        const auto& headers = at(match, {"headers"});
        if (ok && headers.is_object()) {
          for (const auto& [name, spec] : headers.get_object()) {
            auto value = stringMatch(spec, vs, fmt::format("{}.headers.{}", matchWhere, std::string(name)));
            if (!value) {
              ok = false;
              break;
            }
            auto* h = rm->add_headers();
            h->set_name(lower(std::string(name)));
            *h->mutable_match() = *value;
          }
        }
        if (ok) out.push_back(std::move(route));
      }
    }
    return out;
  }

  bool compileAction(const Object& vs, const json::value& http, const std::string& where, weft::v1::Route& route) {
    const auto& redirect = at(http, {"redirect"});
    if (redirect.is_object()) {
      auto* r = route.mutable_redirect();
      r->set_uri(stringAt(redirect, {"uri"}));
      r->set_authority(stringAt(redirect, {"authority"}));
      r->set_scheme(stringAt(redirect, {"scheme"}));
      r->set_port(static_cast<uint32_t>(intAt(redirect, {"port"})));
      auto code = intAt(redirect, {"redirectCode"});
      r->set_code(code > 0 ? static_cast<uint32_t>(code) : 301);
      return true;
    }
    const auto& destinations = arrayAt(http, {"route"});
    if (destinations.empty()) {
      note(vs, fmt::format("{}: neither route nor redirect (directResponse and delegate are not compiled yet): left out", where));
      return false;
    }
    auto* action = route.mutable_route();
    for (const auto& d : destinations) {
      std::string host = resolveHost(stringAt(d, {"destination", "host"}), vs.ns());
      auto port = static_cast<uint32_t>(intAt(d, {"destination", "port", "number"}));
      std::string subset = stringAt(d, {"destination", "subset"});
      auto* wc = action->add_clusters();
      wc->set_cluster(cluster(vs, host, port, subset));
      auto weight = intAt(d, {"weight"});
      wc->set_weight(weight > 0 ? static_cast<uint32_t>(weight) : (destinations.size() == 1 ? 100 : 0));
    }
    auto timeout = durationMs(http, {"timeout"});
    if (!timeout) {
      note(vs, fmt::format("{}.timeout: {}: left out", where, timeout.error().message));
      return false;
    }
    action->set_timeout_ms(*timeout);
    const auto& retries = at(http, {"retries"});
    auto* retry = action->mutable_retries();
    if (retries.is_object()) {
      retry->set_attempts(static_cast<uint32_t>(std::max<int64_t>(0, intAt(retries, {"attempts"}))));
      auto perTry = durationMs(retries, {"perTryTimeout"});
      if (!perTry) {
        note(vs, fmt::format("{}.retries.perTryTimeout: {}: left out", where, perTry.error().message));
        return false;
      }
      retry->set_per_try_timeout_ms(*perTry);
      std::string on = stringAt(retries, {"retryOn"});
      retry->set_retry_on(on.empty() ? kDefaultRetryOn : on);
    } else {
      retry->set_attempts(kDefaultRetryAttempts);
      retry->set_retry_on(kDefaultRetryOn);
    }
    const auto& rewrite = at(http, {"rewrite"});
    if (rewrite.is_object()) {
      action->mutable_rewrite()->set_uri_prefix(stringAt(rewrite, {"uri"}));
      action->mutable_rewrite()->set_authority(stringAt(rewrite, {"authority"}));
    }
    return true;
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
    std::string name = fmt::format("outbound|{}|{}|{}", port, subset, host);
    auto& clusters = build_.resources[kClusterType];
    if (clusters.contains(name)) return name;
    weft::v1::Resource resource;
    resource.set_name(name);
    auto* c = resource.mutable_cluster();
    c->set_name(name);
    c->set_service_hostname(host);
    c->set_port(port);
    c->set_subset(subset);
    if (service == servicesByHost_.end()) {
      note(vs, fmt::format("destination host {} is not a known Service: its route answers 503", host));
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
      if (servicePort != nullptr && subsetFound) {
        for (const auto& pod : objectsOf(objects_, "Pod")) {
          std::string ip = stringAt(pod.value(), {"status", "podIP"});
          if (pod.ns() != svc.ns() || ip.empty() || !podReady(pod)) continue;
          if (!model::selectorMatches(at(svc.value(), {"spec", "selector"}), pod)) continue;
          if (subsetLabels != nullptr && !labelsMatch(*subsetLabels, pod)) continue;
          int target = model::resolveTargetPort(*servicePort, pod);
          if (target > 0) c->add_endpoints(fmt::format("{}:{}", ip, target));
        }
      }
    }
    clusters[name] = std::move(resource);
    return name;
  }

  const ObjectsByKind& objects_;
  RegistryBuild& build_;
  std::map<std::string, const Object*> servicesByHost_;
  std::vector<const Object*> virtualServices_;
};

}  // namespace

std::string resolveHost(const std::string& host, const std::string& ns) {
  if (host.empty() || host.find('.') != std::string::npos || host == "*") return host;
  return host + "." + ns + ".svc.cluster.local";
}

bool serverHostAdmits(const std::string& serverHost, const std::string& vsHost, std::string& domain) {
  auto s = lower(serverHost);
  auto v = lower(vsHost);
  auto wildcardCovers = [](const std::string& wildcard, const std::string& host) {
    // "*" covers everything; "*.example.com" covers "a.example.com" and "*.a.example.com".
    if (wildcard == "*") return true;
    if (!wildcard.starts_with("*.")) return wildcard == host;
    std::string suffix = wildcard.substr(1);
    return host.size() > suffix.size() && host.ends_with(suffix);
  };
  if (s == v || wildcardCovers(s, v)) {
    domain = v;
    return true;
  }
  if (wildcardCovers(v, s)) {
    domain = s;
    return true;
  }
  return false;
}

const std::vector<std::string>& proxyViewKinds() {
  static const std::vector<std::string> kinds{kGatewayKind, kVirtualServiceKind, kDestinationRuleKind};
  return kinds;
}

void addProxyView(const ObjectsByKind& objects, RegistryBuild& build) { ProxyViewCompiler(objects, build).run(); }

}  // namespace weft::control
