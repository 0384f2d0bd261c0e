#pragma once
// The Gateway API's status, as istiod writes it: on each route (HTTPRoute, GRPCRoute,
// TLSRoute, TCPRoute) a `parents[]` entry per parentRef this weftd answers for, with
// Accepted (or why not: NoMatchingParent, NotAllowedByListeners, NoMatchingListenerHostname,
// UnsupportedValue) and ResolvedRefs (or BackendNotFound, InvalidKind, RefNotPermitted);
// on each Gateway of class istio a `listeners[]` entry per listener with its supportedKinds,
// attachedRoutes and the conditions Accepted, Conflicted, ResolvedRefs and Programmed.
//
// It reads the attachment rules the proxy view compiles by (gateway_api_attachment.h) and
// the listener problems the view found (RegistryBuild::gatewayApiProblems), so a
// route the status calls Accepted is one the proxies serve.
//
// Entries other controllers wrote (another controllerName) are kept as they are, and so
// are ours for parents still named that another installed revision answers for; ours for
// parents no longer named, or that no installed revision answers for, are dropped.

#include <functional>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "control/gateway_api_attachment.h"
#include "control/registry.h"

namespace weft::control {

inline constexpr const char* kIstioGatewayController = "istio.io/gateway-controller";

struct StatusUpdate {
  model::ObjectKey object;
  boost::json::value status;  // the whole status to write
  // Write only while the stored status is still this one: for a status taken back, which
  // must not overwrite what another controller wrote since the plan was made.
  std::optional<boost::json::value> onlyOver;
};

// Which weftd writes what: a Gateway's status, and a route's entry for it, by the revision
// that serves the Gateway; a route's entries for other parents (Services, a Gateway that
// does not exist) by the route's revision (gateway_deployer.h says how a revision is chosen).
struct StatusRevisions {
  std::function<std::string(const model::Object&)> revisionOf;
  std::string own;
  std::set<std::string> installed;
};

// The `listeners` of a Gateway's status (class istio), from its stored status and the rest.
boost::json::array gatewayListenerStatuses(const ObjectsByKind& objects, const GatewayApiIndex& index, const model::Object& gateway,
                                           const GatewayApiProblems& problems, const std::string& now);

// The routes whose status differs from what they should say.
std::vector<StatusUpdate> planRouteStatuses(const ObjectsByKind& objects, const GatewayApiIndex& index, const GatewayApiProblems& problems,
                                            const StatusRevisions& revisions, const std::string& now);

// The route kinds whose status is written (what weftd must watch).
const std::vector<std::string>& statusRouteKinds();

}  // namespace weft::control
