#pragma once
// The Gateway API's attachment rules, shared by the proxy view (gateway_api_view.cc, which
// compiles what attaches) and the status writer (gateway_api_status.cc, which says on each
// route and listener what attached and why not): one reading of parentRefs, allowedRoutes,
// hostnames and ReferenceGrants, so what the status says is what the proxies get.

#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "control/httproute_compiler.h"
#include "control/registry.h"

namespace weft::control {

inline constexpr const char* kGatewayApiGroup = "gateway.networking.k8s.io";
inline constexpr const char* kGatewayApiGatewayKind = "Gateway.gateway.networking.k8s.io";
inline constexpr const char* kGatewayApiHttpRouteKind = "HTTPRoute.gateway.networking.k8s.io";
inline constexpr const char* kGatewayApiGrpcRouteKind = "GRPCRoute.gateway.networking.k8s.io";
inline constexpr const char* kGatewayApiTlsRouteKind = "TLSRoute.gateway.networking.k8s.io";
inline constexpr const char* kGatewayApiTcpRouteKind = "TCPRoute.gateway.networking.k8s.io";
inline constexpr const char* kGatewayApiReferenceGrantKind = "ReferenceGrant.gateway.networking.k8s.io";

// `v` at `path` as a string, or `fallback` when absent or empty.
std::string stringOr(const boost::json::value& v, std::initializer_list<std::string_view> path, std::string fallback);

// A Kubernetes LabelSelector (matchLabels and matchExpressions) against `labels`.
bool labelSelectorMatches(const boost::json::value& selector, const boost::json::object& labels);

// The domains a route serves on a listener: its hostnames intersected with the listener's
// (either may be absent, meaning any host). Empty: nothing in common.
std::vector<std::string> domainsFor(const std::string& listenerHost, const boost::json::array& routeHosts);

// Whether a parentRef names `gateway` (group and kind default to the Gateway's, namespace to
// the route's), and whether it selects `listener` (by sectionName and/or port, when given).
bool parentRefNamesGateway(const boost::json::value& ref, const model::Object& route, const model::Object& gateway);
bool parentRefSelectsListener(const boost::json::value& ref, const boost::json::value& listener);

// The route kinds (unqualified) a listener takes without allowedRoutes.kinds: HTTPRoute and
// GRPCRoute on HTTP and HTTPS, TLSRoute on TLS (and TCPRoute when it terminates: the
// decrypted bytes go on as TCP), TCPRoute on TCP.
std::vector<std::string> defaultRouteKinds(const boost::json::value& listener);

// What the attachment rules read besides the route and the Gateway: namespaces (for
// allowedRoutes selectors), Services and ReferenceGrants.
class GatewayApiIndex {
 public:
  explicit GatewayApiIndex(const ObjectsByKind& objects);

  // Whether a ReferenceGrant in `toNs` lets `fromKind` objects of `fromNs` refer to `toKind` `toName`.
  bool granted(const std::string& fromKind, const std::string& fromNs, const std::string& toGroup, const std::string& toKind,
               const std::string& toNs, const std::string& toName) const;

  // A backendRef of a route with a Gateway parent: a core Service (existing or not), or
  // refused (another kind, or another namespace without a ReferenceGrant).
  ResolvedBackend resolveBackend(const model::Object& route, const boost::json::value& ref) const;

  // Whether `listener`'s allowedRoutes (namespaces, kinds) admit `route`.
  bool admits(const model::Object& gateway, const boost::json::value& listener, const model::Object& route) const;

  const std::set<std::string>& services() const { return services_; }  // "<ns>/<name>"

 private:
  const ObjectsByKind& objects_;
  std::map<std::string, const model::Object*> namespaces_;
  std::set<std::string> services_;
};

}  // namespace weft::control
