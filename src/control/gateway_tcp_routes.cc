#include "control/gateway_tcp_routes.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::intAt;

namespace {

// Whether a match block's `port` and `gateways` let it apply to this listener.
bool matchApplies(const model::Object& vs, const json::value& match, const TcpRouteScope& scope) {
  auto port = intAt(match, {"port"});
  if (port != 0 && static_cast<uint32_t>(port) != scope.port) return false;
  const auto& gateways = arrayAt(match, {"gateways"});
  if (gateways.empty()) return true;
  return std::any_of(gateways.begin(), gateways.end(), [&](const json::value& g) {
    if (!g.is_string()) return false;
    std::string name(g.get_string());
    // "mesh" is every waypoint's (and sidecar's) scope, never a Gateway's.
    if (name != kMeshScope && name.find('/') == std::string::npos) name = vs.ns() + "/" + name;
    return name == scope.gatewayKey;
  });
}

// A match on what the relay does not know yet is left out, with a note, rather than
// widened by ignoring it.
bool unsupportedMatch(const model::Object& vs, const json::value& match, const std::string& where, const RouteCompiler::Note& note) {
  for (const char* field : {"sourceLabels", "destinationSubnets", "sourceNamespace"}) {
    if (match.is_object() && match.as_object().contains(field)) {
      note(vs, fmt::format("{}.{} is not compiled yet: that match is left out", where, field));
      return true;
    }
  }
  return false;
}

bool addClusters(const RouteCompiler& routes, const model::Object& vs, const json::value& rule, const std::string& where,
                 weft::v1::TcpRoute& route, const RouteCompiler::Note& note) {
  const auto& destinations = arrayAt(rule, {"route"});
  if (destinations.empty()) {
    note(vs, fmt::format("{}: no route: left out", where));
    return false;
  }
  routes.addDestinations(vs, destinations, *route.mutable_clusters());
  return true;
}

}  // namespace

std::vector<weft::v1::TcpRoute> tlsRoutesFor(const RouteCompiler& routes, const model::Object& vs, const TcpRouteScope& scope,
                                             const SniAdmits& admits, const RouteCompiler::Note& note) {
  std::vector<weft::v1::TcpRoute> out;
  const auto& rules = arrayAt(vs.value(), {"spec", "tls"});
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& matches = arrayAt(rules[i], {"match"});
    for (size_t j = 0; j < matches.size(); ++j) {
      if (!matchApplies(vs, matches[j], scope) || unsupportedMatch(vs, matches[j], fmt::format("tls[{}].match[{}]", i, j), note)) continue;
      weft::v1::TcpRoute route;
      route.set_name(fmt::format("{}/{}/tls.{}.{}", vs.ns(), vs.name(), i, j));
      for (const auto& sni : arrayAt(matches[j], {"sniHosts"})) {
        if (!sni.is_string()) continue;
        for (auto& name : admits(std::string(sni.get_string()))) {
          if (std::find(route.sni_hosts().begin(), route.sni_hosts().end(), name) == route.sni_hosts().end()) route.add_sni_hosts(name);
        }
      }
      if (route.sni_hosts().empty()) continue;
      if (!addClusters(routes, vs, rules[i], fmt::format("tls[{}]", i), route, note)) break;
      out.push_back(std::move(route));
    }
  }
  return out;
}

std::vector<weft::v1::TcpRoute> tcpRoutesFor(const RouteCompiler& routes, const model::Object& vs, const TcpRouteScope& scope,
                                             const RouteCompiler::Note& note) {
  std::vector<weft::v1::TcpRoute> out;
  const auto& rules = arrayAt(vs.value(), {"spec", "tcp"});
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& matches = arrayAt(rules[i], {"match"});
    bool applies = matches.empty();
    for (size_t j = 0; j < matches.size() && !applies; ++j) {
      applies = matchApplies(vs, matches[j], scope) && !unsupportedMatch(vs, matches[j], fmt::format("tcp[{}].match[{}]", i, j), note);
    }
    if (!applies) continue;
    weft::v1::TcpRoute route;
    route.set_name(fmt::format("{}/{}/tcp.{}", vs.ns(), vs.name(), i));
    if (!addClusters(routes, vs, rules[i], fmt::format("tcp[{}]", i), route, note)) continue;
    out.push_back(std::move(route));
  }
  return out;
}

}  // namespace weft::control
