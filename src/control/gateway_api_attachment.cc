#include "control/gateway_api_attachment.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <optional>

#include "control/host_names.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::Object;
using model::stringAt;

std::string stringOr(const json::value& v, std::initializer_list<std::string_view> path, std::string fallback) {
  std::string s = stringAt(v, path);
  return s.empty() ? fallback : s;
}

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

bool parentRefNamesGateway(const json::value& ref, const Object& route, const Object& gateway) {
  return stringOr(ref, {"group"}, kGatewayApiGroup) == kGatewayApiGroup && stringOr(ref, {"kind"}, "Gateway") == "Gateway" &&
         stringOr(ref, {"namespace"}, route.ns()) == gateway.ns() && stringAt(ref, {"name"}) == gateway.name();
}

bool parentRefSelectsListener(const json::value& ref, const json::value& listener) {
  std::string section = stringAt(ref, {"sectionName"});
  auto port = intAt(ref, {"port"});
  return (section.empty() || section == stringAt(listener, {"name"})) && (port == 0 || port == intAt(listener, {"port"}));
}

std::vector<std::string> defaultRouteKinds(const json::value& listener) {
  std::string protocol = stringAt(listener, {"protocol"});
  if (protocol == "TLS") {
    if (stringOr(listener, {"tls", "mode"}, "Terminate") == "Terminate") return {"TLSRoute", "TCPRoute"};
    return {"TLSRoute"};
  }
  if (protocol == "TCP") return {"TCPRoute"};
  if (protocol == "HTTP" || protocol == "HTTPS") return {"HTTPRoute", "GRPCRoute"};
  return {};
}

GatewayApiIndex::GatewayApiIndex(const ObjectsByKind& objects) : objects_(objects) {
  for (const auto& ns : objectsOf(objects, "Namespace")) namespaces_[ns.name()] = &ns;
  for (const auto& s : objectsOf(objects, "Service")) services_.insert(s.ns() + "/" + s.name());
}

bool GatewayApiIndex::granted(const std::string& fromKind, const std::string& fromNs, const std::string& toGroup, const std::string& toKind,
                              const std::string& toNs, const std::string& toName) const {
  for (const auto& grant : objectsOf(objects_, kGatewayApiReferenceGrantKind)) {
    if (grant.ns() != toNs) continue;
    const auto& from = arrayAt(grant.value(), {"spec", "from"});
    const auto& to = arrayAt(grant.value(), {"spec", "to"});
    bool fromOk = std::any_of(from.begin(), from.end(), [&](const json::value& f) {
      return stringAt(f, {"group"}) == kGatewayApiGroup && stringAt(f, {"kind"}) == fromKind && stringAt(f, {"namespace"}) == fromNs;
    });
    bool toOk = std::any_of(to.begin(), to.end(), [&](const json::value& t) {
      std::string name = stringAt(t, {"name"});
      return stringAt(t, {"group"}) == toGroup && stringAt(t, {"kind"}) == toKind && (name.empty() || name == toName);
    });
    if (fromOk && toOk) return true;
  }
  return false;
}

ResolvedBackend GatewayApiIndex::resolveBackend(const Object& route, const json::value& ref) const {
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

bool GatewayApiIndex::admits(const Object& gateway, const json::value& listener, const Object& route) const {
  std::string from = stringOr(listener, {"allowedRoutes", "namespaces", "from"}, "Same");
  if (from == "Same" && route.ns() != gateway.ns()) return false;
  if (from == "Selector") {
    auto ns = namespaces_.find(route.ns());
    static const json::object none;
    if (!labelSelectorMatches(at(listener, {"allowedRoutes", "namespaces", "selector"}), ns == namespaces_.end() ? none : ns->second->labels())) {
      return false;
    }
  }
  const std::string& routeKind = route.kind();  // unqualified
  const auto& kinds = arrayAt(listener, {"allowedRoutes", "kinds"});
  if (kinds.empty()) {
    auto defaults = defaultRouteKinds(listener);
    return std::find(defaults.begin(), defaults.end(), routeKind) != defaults.end();
  }
  return std::any_of(kinds.begin(), kinds.end(), [&](const json::value& k) {
    return stringOr(k, {"group"}, kGatewayApiGroup) == kGatewayApiGroup && stringAt(k, {"kind"}) == routeKind;
  });
}

}  // namespace weft::control
