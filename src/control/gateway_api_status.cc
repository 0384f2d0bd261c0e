#include "control/gateway_api_status.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <set>

#include "control/gamma_routes.h"
#include "control/status_condition.h"
#include "install/managed_gateway_objects.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::Object;
using model::stringAt;

namespace {

const char* const kRouteKinds[] = {kGatewayApiHttpRouteKind, kGatewayApiGrpcRouteKind, kGatewayApiTlsRouteKind, kGatewayApiTcpRouteKind};

// What a route's parentRef says about one parent.
struct Verdict {
  bool accepted = false;
  std::string reason;
  std::string message;
  std::vector<size_t> listeners;  // a Gateway's listeners the route attaches to
};

Verdict refused(std::string reason, std::string message) { return {false, std::move(reason), std::move(message), {}}; }

bool namesServiceEntry(const json::value& ref) {
  return stringAt(ref, {"group"}) == "networking.istio.io" && stringAt(ref, {"kind"}) == "ServiceEntry";
}

bool namesAnyGateway(const json::value& ref) {
  return stringOr(ref, {"group"}, kGatewayApiGroup) == kGatewayApiGroup && stringOr(ref, {"kind"}, "Gateway") == "Gateway";
}

// A parentRef as the status echoes it: as written, with the group and kind the API
// defaults, its fields in one order.
json::value echoed(const json::value& ref) {
  json::object out;
  out["group"] = at(ref, {"group"}).is_string() ? at(ref, {"group"}) : json::value(kGatewayApiGroup);
  out["kind"] = at(ref, {"kind"}).is_string() ? at(ref, {"kind"}) : json::value("Gateway");
  for (const char* field : {"namespace", "name", "sectionName", "port"}) {
    if (const auto& v = at(ref, {field}); !v.is_null()) out[field] = v;
  }
  return out;
}

// Whether the route kind goes on the listener at all (whatever allowedRoutes lists): the
// proxy view attaches HTTP kinds to HTTP(S) listeners and L4 kinds to TLS and TCP ones.
bool supports(const json::value& listener, const std::string& routeKind) {
  auto kinds = defaultRouteKinds(listener);
  return std::find(kinds.begin(), kinds.end(), routeKind) != kinds.end();
}

bool matchesHostnames(const Object& route) { return route.kind() != "TCPRoute"; }

const std::map<size_t, ListenerProblem>* problemsOf(const GatewayApiProblems& problems, const Object& gateway) {
  auto found = problems.listeners.find(gateway.ns() + "/" + gateway.name());
  return found == problems.listeners.end() ? nullptr : &found->second;
}

const ListenerProblem* problemAt(const std::map<size_t, ListenerProblem>* problems, size_t listener) {
  if (problems == nullptr) return nullptr;
  auto found = problems->find(listener);
  return found == problems->end() ? nullptr : &found->second;
}

// Whether some parentRef of `route` attaches it to `listener` as the spec counts attachment
// (parentRefs and allowedRoutes alone: hostnames do not count).
bool countsOn(const Object& route, const Object& gateway, const json::value& listener, const GatewayApiIndex& index) {
  if (!supports(listener, route.kind()) || !index.admits(gateway, listener, route)) return false;
  const auto& refs = arrayAt(route.value(), {"spec", "parentRefs"});
  return std::any_of(refs.begin(), refs.end(),
                     [&](const json::value& ref) { return parentRefNamesGateway(ref, route, gateway) && parentRefSelectsListener(ref, listener); });
}

bool hostnamesMeet(const Object& route, const json::value& listener) {
  return !matchesHostnames(route) || !domainsFor(stringAt(listener, {"hostname"}), arrayAt(route.value(), {"spec", "hostnames"})).empty();
}

// A TLS Terminate or TCP listener relays every connection by one route, the first attached
// in the proxy view's order (TLSRoutes, then TCPRoutes; store order within a kind): its
// "<ns>/<name>", or "" when the listener takes every route (HTTP, HTTPS, TLS passthrough).
std::string relayingRoute(const ObjectsByKind& objects, const Object& gateway, const json::value& listener, const GatewayApiIndex& index) {
  std::string protocol = stringAt(listener, {"protocol"});
  bool terminated = protocol == "TLS" && stringOr(listener, {"tls", "mode"}, "Terminate") == "Terminate";
  if (!terminated && protocol != "TCP") return "";
  for (const char* kind : {kGatewayApiTlsRouteKind, kGatewayApiTcpRouteKind}) {
    for (const auto& route : objectsOf(objects, kind)) {
      if (countsOn(route, gateway, listener, index) && hostnamesMeet(route, listener)) return route.ns() + "/" + route.name();
    }
  }
  return "";
}

Verdict evaluateGatewayParent(const ObjectsByKind& objects, const Object& route, const json::value& ref, const Object& gateway,
                              const GatewayApiIndex& index, const GatewayApiProblems& problems) {
  if (stringAt(gateway.value(), {"spec", "gatewayClassName"}) == install::kWaypointGatewayClass) {
    return refused("UnsupportedValue", fmt::format("routes attached to the waypoint Gateway {}/{} are not served: attach them to a Service it serves",
                                                   gateway.ns(), gateway.name()));
  }
  const auto* listenerProblems = problemsOf(problems, gateway);
  std::vector<std::string> selected, leftOut, hostnames, taken;
  size_t fitting = 0;  // selected listeners that take the route's kind
  bool admitted = false;
  Verdict verdict;
  size_t i = 0;
  for (const auto& listener : arrayAt(gateway.value(), {"spec", "listeners"})) {
    size_t position = i++;
    if (!parentRefSelectsListener(ref, listener)) continue;
    std::string name = stringAt(listener, {"name"});
    selected.push_back(name);
    if (supports(listener, route.kind())) ++fitting;
    if (const auto* problem = problemAt(listenerProblems, position); problem != nullptr && problem->leftOut) {
      if (supports(listener, route.kind()) || stringAt(ref, {"sectionName"}) == name) leftOut.push_back(fmt::format("{} ({})", name, problem->message));
      continue;
    }
    if (!supports(listener, route.kind()) || !index.admits(gateway, listener, route)) continue;
    admitted = true;
    std::string host = stringAt(listener, {"hostname"});
    hostnames.push_back(host.empty() ? "*" : host);
    if (!hostnamesMeet(route, listener)) continue;
    if (std::string relaying = relayingRoute(objects, gateway, listener, index); !relaying.empty() && relaying != route.ns() + "/" + route.name()) {
      taken.push_back(fmt::format("{} (relays every connection by {}, the first route attached)", name, relaying));
      continue;
    }
    verdict.listeners.push_back(position);
  }
  std::string gw = gateway.ns() + "/" + gateway.name();
  if (selected.empty()) {
    std::string section = stringAt(ref, {"sectionName"});
    auto port = intAt(ref, {"port"});
    if (!section.empty() && port != 0) return refused("NoMatchingParent", fmt::format("Gateway {} has no listener {} on port {}", gw, section, port));
    if (!section.empty()) return refused("NoMatchingParent", fmt::format("Gateway {} has no listener named {}", gw, section));
    if (port != 0) return refused("NoMatchingParent", fmt::format("Gateway {} has no listener on port {}", gw, port));
    return refused("NoMatchingParent", fmt::format("Gateway {} has no listeners", gw));
  }
  // Every listener that could take it is left out: the parent is there in name only.
  if (!admitted && !leftOut.empty() && (selected.size() == leftOut.size() || fitting == leftOut.size())) {
    return refused("NoMatchingParent", fmt::format("no listener of Gateway {} it names is served: {}", gw, fmt::join(leftOut, "; ")));
  }
  if (!admitted) {
    return refused("NotAllowedByListeners", fmt::format("no listener of Gateway {} it names ({}) allows a {} from namespace {}", gw,
                                                        fmt::join(selected, ", "), route.kind(), route.ns()));
  }
  if (verdict.listeners.empty() && !taken.empty()) {
    return refused("NotAllowedByListeners", fmt::format("listener {} of Gateway {}: not served", fmt::join(taken, ", "), gw));
  }
  if (verdict.listeners.empty()) {
    return refused("NoMatchingListenerHostname",
                   fmt::format("no hostname of the route matches a listener hostname of Gateway {} ({})", gw, fmt::join(hostnames, ", ")));
  }
  verdict.accepted = true;
  verdict.reason = "Accepted";
  verdict.message = "Route was valid";
  return verdict;
}

Verdict evaluateServiceParent(const ObjectsByKind& objects, const Object& route, const json::value& ref) {
  std::string ns = stringOr(ref, {"namespace"}, route.ns());
  std::string name = stringAt(ref, {"name"});
  if (route.kind() == "TLSRoute") return refused("UnsupportedValue", "TLSRoutes with a Service parent are not served at waypoints yet");
  const Object* service = findObject(objects, {"Service", ns, name});
  if (service == nullptr) return refused("NoMatchingParent", fmt::format("Service {}/{} does not exist", ns, name));
  if (auto port = intAt(ref, {"port"}); port != 0) {
    const auto& ports = arrayAt(service->value(), {"spec", "ports"});
    if (std::none_of(ports.begin(), ports.end(), [&](const json::value& p) { return intAt(p, {"port"}) == port; })) {
      return refused("NoMatchingParent", fmt::format("Service {}/{} has no port {}", ns, name, port));
    }
  }
  return {true, "Accepted", "Route was valid", {}};
}

// Which parent a parentRef names and the object whose revision answers for it: a Gateway
// of a class weftd serves (the Gateway), a Gateway that does not exist, a Service or a
// ServiceEntry (the route). nullopt: a parent no weftd answers for (another class's Gateway,
// another kind).
struct Parent {
  enum class Kind { kGateway, kMissingGateway, kService, kServiceEntry } kind;
  const Object* gateway = nullptr;
  const Object* answerer = nullptr;
};

std::optional<Parent> parentOf(const ObjectsByKind& objects, const Object& route, const json::value& ref) {
  if (namesAnyGateway(ref)) {
    const Object* gateway = findObject(objects, {kGatewayApiGatewayKind, stringOr(ref, {"namespace"}, route.ns()), stringAt(ref, {"name"})});
    if (gateway == nullptr) return Parent{Parent::Kind::kMissingGateway, nullptr, &route};
    if (!install::isManagedGatewayClass(stringAt(gateway->value(), {"spec", "gatewayClassName"}))) return std::nullopt;
    return Parent{Parent::Kind::kGateway, gateway, gateway};
  }
  if (parentRefNamesService(ref)) return Parent{Parent::Kind::kService, nullptr, &route};
  if (namesServiceEntry(ref)) return Parent{Parent::Kind::kServiceEntry, nullptr, &route};
  return std::nullopt;
}

// The route's backends, as one condition: the first that does not resolve says why.
// Gateway parents need a ReferenceGrant for another namespace; mesh parents do not (as in Istio).
std::pair<std::string, std::string> resolvedRefs(const Object& route, const GatewayApiIndex& index, bool mesh) {
  auto check = [&](const json::value& ref) -> std::optional<std::pair<std::string, std::string>> {
    ResolvedBackend backend = mesh ? resolveMeshBackend(index.services(), route, ref) : index.resolveBackend(route, ref);
    if (backend.state == ResolvedBackend::State::kService) return std::nullopt;
    if (backend.state == ResolvedBackend::State::kMissingService) return std::pair{std::string("BackendNotFound"), backend.why};
    bool kindProblem = !stringAt(ref, {"group"}).empty() || stringOr(ref, {"kind"}, "Service") != "Service";
    return std::pair{std::string(kindProblem ? "InvalidKind" : "RefNotPermitted"), backend.why};
  };
  for (const auto& rule : arrayAt(route.value(), {"spec", "rules"})) {
    for (const auto& ref : arrayAt(rule, {"backendRefs"})) {
      if (auto problem = check(ref)) return *problem;
    }
    for (const auto& filter : arrayAt(rule, {"filters"})) {
      if (const auto& mirror = at(filter, {"requestMirror", "backendRef"}); mirror.is_object()) {
        if (auto problem = check(mirror)) return *problem;
      }
    }
  }
  return {"ResolvedRefs", "All references resolved"};
}

const json::value& previousEntry(const json::array& entries, const json::value& parentRef) {
  static const json::value none;
  for (const auto& e : entries) {
    if (stringAt(e, {"controllerName"}) == kIstioGatewayController && at(e, {"parentRef"}) == parentRef) return e;
  }
  return none;
}

// The order entries are written in, whoever wrote them: two revisions writing one route
// must agree on it, or each would undo the other's order forever.
// Built from the fields, not the JSON text, which keeps whatever key order it was stored in.
std::string entryOrder(const json::value& entry) {
  const auto& ref = at(entry, {"parentRef"});
  return fmt::format("{}/{}/{}/{}/{}/{:05}/{}", stringAt(ref, {"group"}), stringAt(ref, {"kind"}), stringAt(ref, {"namespace"}), stringAt(ref, {"name"}),
                     stringAt(ref, {"sectionName"}), intAt(ref, {"port"}), stringAt(entry, {"controllerName"}));
}

std::optional<json::value> routeStatus(const ObjectsByKind& objects, const Object& route, const GatewayApiIndex& index,
                                       const GatewayApiProblems& problems, const StatusRevisions& revisions, const std::string& now) {
  const auto& previous = arrayAt(route.value(), {"status", "parents"});
  int64_t generation = intAt(route.value(), {"metadata", "generation"});
  std::vector<json::value> named;
  for (const auto& ref : arrayAt(route.value(), {"spec", "parentRefs"})) named.push_back(echoed(ref));
  // Kept as they are: another controller's entries, and ours for parents still named that
  // another installed revision answers for. Ours for parents no longer named, or that no
  // installed revision answers for, go.
  json::array parents;
  for (const auto& entry : previous) {
    if (stringAt(entry, {"controllerName"}) != kIstioGatewayController) {
      parents.push_back(entry);
      continue;
    }
    const auto& parentRef = at(entry, {"parentRef"});
    if (std::find(named.begin(), named.end(), parentRef) == named.end()) continue;
    auto parent = parentOf(objects, route, parentRef);
    if (!parent) continue;
    std::string answering = revisions.revisionOf(*parent->answerer);
    if (answering != revisions.own && revisions.installed.contains(answering)) parents.push_back(entry);
  }
  std::optional<std::pair<std::string, std::string>> gatewayRefs, meshRefs;
  std::vector<json::value> seen;
  for (const auto& ref : arrayAt(route.value(), {"spec", "parentRefs"})) {
    auto parent = parentOf(objects, route, ref);
    if (!parent || revisions.revisionOf(*parent->answerer) != revisions.own) continue;
    json::value parentRef = echoed(ref);
    if (std::find(seen.begin(), seen.end(), parentRef) != seen.end()) continue;
    seen.push_back(parentRef);
    Verdict verdict;
    bool mesh = false;
    switch (parent->kind) {
      case Parent::Kind::kGateway:
        verdict = evaluateGatewayParent(objects, route, ref, *parent->gateway, index, problems);
        break;
      case Parent::Kind::kMissingGateway:
        verdict = refused("NoMatchingParent", fmt::format("Gateway {}/{} does not exist", stringOr(ref, {"namespace"}, route.ns()), stringAt(ref, {"name"})));
        break;
      case Parent::Kind::kService:
        verdict = evaluateServiceParent(objects, route, ref);
        mesh = true;
        break;
      case Parent::Kind::kServiceEntry:
        verdict = refused("UnsupportedValue", "routes with a ServiceEntry parent are not served yet");
        mesh = true;
        break;
    }
    auto& refs = mesh ? meshRefs : gatewayRefs;
    if (!refs) refs = resolvedRefs(route, index, mesh);
    const json::value& was = previousEntry(previous, parentRef);
    json::array conditions{statusCondition(was, "Accepted", verdict.accepted, verdict.reason, verdict.message, generation, now),
                           statusCondition(was, "ResolvedRefs", refs->first == "ResolvedRefs", refs->first, refs->second, generation, now)};
    // Rules the proxies answer 500 for (a filter not served, a bad timeout): the rest serve.
    // The Gateway API view and the waypoint's report them, per route as Istio says it: on
    // every parent that accepts it, once any proxy's compiler found one (a route whose
    // parents are all Services without a waypoint is compiled by none: nothing to say).
    if (auto unserved = problems.unservedRules.find(route.key()); verdict.accepted && unserved != problems.unservedRules.end()) {
      conditions.push_back(statusCondition(was, "PartiallyInvalid", true, "UnsupportedValue", unserved->second, generation, now));
    }
    parents.push_back(json::object{{"parentRef", std::move(parentRef)}, {"controllerName", kIstioGatewayController}, {"conditions", std::move(conditions)}});
  }
  std::stable_sort(parents.begin(), parents.end(), [](const json::value& a, const json::value& b) { return entryOrder(a) < entryOrder(b); });
  if (parents == previous) return std::nullopt;
  json::object status = at(route.value(), {"status"}).is_object() ? at(route.value(), {"status"}).get_object() : json::object{};
  status["parents"] = std::move(parents);
  return json::value(std::move(status));
}

}  // namespace

json::array gatewayListenerStatuses(const ObjectsByKind& objects, const GatewayApiIndex& index, const Object& gateway,
                                    const GatewayApiProblems& problems, const std::string& now) {
  const auto& listeners = arrayAt(gateway.value(), {"spec", "listeners"});
  // Routes attached to each listener as the spec counts them: by parentRefs and
  // allowedRoutes alone, whether or not the listener is served or the hostnames meet.
  std::vector<int64_t> attached(listeners.size(), 0);
  for (const char* kind : kRouteKinds) {
    for (const auto& route : objectsOf(objects, kind)) {
      for (size_t i = 0; i < listeners.size(); ++i) {
        if (countsOn(route, gateway, listeners[i], index)) ++attached[i];
      }
    }
  }
  const auto* listenerProblems = problemsOf(problems, gateway);
  int64_t generation = intAt(gateway.value(), {"metadata", "generation"});
  const auto& previous = arrayAt(gateway.value(), {"status", "listeners"});
  json::array out;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const auto& listener = listeners[i];
    std::string name = stringAt(listener, {"name"});
    static const json::value none;
    const json::value* was = &none;
    for (const auto& p : previous) {
      if (stringAt(p, {"name"}) == name) was = &p;
    }
    // Kinds it takes: allowedRoutes.kinds the listener supports, else its protocol's own.
    json::array supportedKinds;
    std::vector<std::string> invalidKinds;
    const auto& allowed = arrayAt(listener, {"allowedRoutes", "kinds"});
    if (allowed.empty()) {
      for (const auto& kind : defaultRouteKinds(listener)) supportedKinds.push_back(json::object{{"group", kGatewayApiGroup}, {"kind", kind}});
    }
    for (const auto& k : allowed) {
      std::string group = stringOr(k, {"group"}, kGatewayApiGroup), kind = stringAt(k, {"kind"});
      if (group == kGatewayApiGroup && supports(listener, kind)) {
        supportedKinds.push_back(json::object{{"group", group}, {"kind", kind}});
      } else {
        invalidKinds.push_back(group + "/" + kind);
      }
    }
    const ListenerProblem* problem = nullptr;
    if (listenerProblems != nullptr) {
      if (auto p = listenerProblems->find(i); p != listenerProblems->end()) problem = &p->second;
    }
    auto is = [&](const char* condition) { return problem != nullptr && problem->condition == condition; };
    const char* noErrors = "No errors found";
    json::array conditions;
    conditions.push_back(is("Accepted") ? statusCondition(*was, "Accepted", false, problem->reason, problem->message, generation, now)
                                        : statusCondition(*was, "Accepted", true, "Accepted", noErrors, generation, now));
    // Conflicted is True when there is a conflict: the one condition whose good state is False.
    conditions.push_back(is("Conflicted") ? statusCondition(*was, "Conflicted", true, problem->reason, problem->message, generation, now)
                                          : statusCondition(*was, "Conflicted", false, "NoConflicts", noErrors, generation, now));
    std::string refsReason = "ResolvedRefs", refsMessage = noErrors;
    if (is("ResolvedRefs")) {
      refsReason = problem->reason;
      refsMessage = problem->message;
    } else if (!invalidKinds.empty()) {
      refsReason = "InvalidRouteKinds";
      refsMessage = fmt::format("route kinds the listener cannot take: {}", fmt::join(invalidKinds, ", "));
    }
    conditions.push_back(statusCondition(*was, "ResolvedRefs", refsReason == "ResolvedRefs", refsReason, refsMessage, generation, now));
    bool programmed = problem == nullptr;
    conditions.push_back(programmed ? statusCondition(*was, "Programmed", true, "Programmed", noErrors, generation, now)
                                    : statusCondition(*was, "Programmed", false, "Invalid", problem->message, generation, now));
    out.push_back(json::object{{"name", name},
                               {"supportedKinds", std::move(supportedKinds)},
                               {"attachedRoutes", attached[i]},
                               {"conditions", std::move(conditions)}});
  }
  return out;
}

std::vector<StatusUpdate> planRouteStatuses(const ObjectsByKind& objects, const GatewayApiIndex& index, const GatewayApiProblems& problems,
                                            const StatusRevisions& revisions, const std::string& now) {
  std::vector<StatusUpdate> out;
  for (const char* kind : kRouteKinds) {
    for (const auto& route : objectsOf(objects, kind)) {
      if (auto status = routeStatus(objects, route, index, problems, revisions, now)) out.push_back({route.key(), std::move(*status), std::nullopt});
    }
  }
  return out;
}

const std::vector<std::string>& statusRouteKinds() {
  static const std::vector<std::string> kinds(std::begin(kRouteKinds), std::end(kRouteKinds));
  return kinds;
}

}  // namespace weft::control
