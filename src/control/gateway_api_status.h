#pragma once
// The Gateway API's status, as istiod writes it: on each route (HTTPRoute, GRPCRoute,
// TLSRoute, TCPRoute) a `parents[]` entry per parentRef this weftd answers for, with
// Accepted (or why not: NoMatchingParent, NotAllowedByListeners, NoMatchingListenerHostname,
// UnsupportedValue) and ResolvedRefs (or BackendNotFound, InvalidKind, RefNotPermitted);
// on each Gateway of class istio a `listeners[]` entry per listener with its supportedKinds,
// attachedRoutes and the conditions Accepted, Conflicted, ResolvedRefs and Programmed.
//
// It reads the attachment rules the proxy view compiles by (gateway_api_attachment.h) and
// the listener problems the view found (RegistryBuild::gatewayListenerProblems), so a
// route the status calls Accepted is one the proxies serve.
//
// Entries other controllers wrote (another controllerName), and ours for parents another
// revision answers for, are kept as they are.

#include <functional>
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
};

// Whether this weftd writes the status of a Gateway, or of a route's parents that are not
// Gateways (Services, or a Gateway that does not exist): by revision (gateway_deployer.h).
using AnswersFor = std::function<bool(const model::Object&)>;

// The `listeners` of a Gateway's status (class istio); `previous` is the stored status.
boost::json::array gatewayListenerStatuses(const ObjectsByKind& objects, const GatewayApiIndex& index, const model::Object& gateway,
                                           const GatewayListenerProblems& problems, const std::string& now);

// The routes whose status differs from what they should say.
std::vector<StatusUpdate> planRouteStatuses(const ObjectsByKind& objects, const GatewayApiIndex& index, const GatewayListenerProblems& problems,
                                            const AnswersFor& answersFor, const std::string& now);

// The route kinds whose status is written (what weftd must watch).
const std::vector<std::string>& statusRouteKinds();

}  // namespace weft::control
