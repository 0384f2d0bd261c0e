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
  return matchGatewaysInclude(vs, match, scope.gatewayKey);
}

// A match on what the relay does not know is left out, with a note, rather than widened
// by ignoring it: destinationSubnets anywhere, the source's labels and namespace in the mesh.
bool unsupportedMatch(const model::Object& vs, const json::value& match, const TcpRouteScope& scope, const std::string& where,
                      const RouteCompiler::Note& note) {
  if (match.is_object() && match.as_object().contains("destinationSubnets")) {
    note(vs, fmt::format("{}.destinationSubnets is not compiled yet: that match is left out", where));
    return true;
  }
  if (scope.gatewayKey == kMeshScope && matchSource(match)) {
    note(vs, fmt::format("{}: sourceLabels and sourceNamespace are not compiled at waypoints: that match is left out", where));
    return true;
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
      if (!matchApplies(vs, matches[j], scope) || unsupportedMatch(vs, matches[j], scope, fmt::format("tls[{}].match[{}]", i, j), note)) continue;
      weft::v1::TcpRoute route;
      route.set_name(fmt::format("{}/{}/tls.{}.{}", vs.ns(), vs.name(), i, j));
      if (auto source = matchSource(matches[j])) *route.add_sources() = std::move(*source);
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
    // The rule applies when one of its matches does: with sources, at the proxies they
    // describe; with a match without any, everywhere.
    bool applies = matches.empty(), everywhere = matches.empty();
    std::vector<weft::v1::RouteSource> sources;
    for (size_t j = 0; j < matches.size(); ++j) {
      if (!matchApplies(vs, matches[j], scope) || unsupportedMatch(vs, matches[j], scope, fmt::format("tcp[{}].match[{}]", i, j), note)) continue;
      applies = true;
      if (auto source = matchSource(matches[j])) {
        sources.push_back(std::move(*source));
      } else {
        everywhere = true;
      }
    }
    if (!applies) continue;
    weft::v1::TcpRoute route;
    route.set_name(fmt::format("{}/{}/tcp.{}", vs.ns(), vs.name(), i));
    if (!everywhere) {
      for (auto& source : sources) *route.add_sources() = std::move(source);
    }
    if (!addClusters(routes, vs, rules[i], fmt::format("tcp[{}]", i), route, note)) continue;
    out.push_back(std::move(route));
  }
  return out;
}

}  // namespace weft::control
