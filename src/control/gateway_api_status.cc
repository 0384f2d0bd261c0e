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

const Object* findObject(const ObjectsByKind& objects, const std::string& kind, const std::string& ns, const std::string& name) {
  for (const auto& o : objectsOf(objects, kind)) {
    if (o.ns() == ns && o.name() == name) return &o;
  }
  return nullptr;
}

bool namesCoreService(const json::value& ref) {
  return at(ref, {"group"}).is_string() && stringAt(ref, {"group"}).empty() && stringAt(ref, {"kind"}) == "Service";
}

bool namesServiceEntry(const json::value& ref) {
  return stringAt(ref, {"group"}) == "networking.istio.io" && stringAt(ref, {"kind"}) == "ServiceEntry";
}

bool namesAnyGateway(const json::value& ref) {
  return stringOr(ref, {"group"}, kGatewayApiGroup) == kGatewayApiGroup && stringOr(ref, {"kind"}, "Gateway") == "Gateway";
}

// A parentRef as the status echoes it: as written, with the group and kind the API defaults.
json::value echoed(const json::value& ref) {
  json::object out = ref.is_object() ? ref.get_object() : json::object{};
  if (!out.contains("group")) out["group"] = kGatewayApiGroup;
  if (!out.contains("kind")) out["kind"] = "Gateway";
  return out;
}

// Whether the route kind goes on the listener at all (whatever allowedRoutes lists): the
// proxy view attaches HTTP kinds to HTTP(S) listeners and L4 kinds to TLS and TCP ones.
bool supports(const json::value& listener, const std::string& routeKind) {
  auto kinds = defaultRouteKinds(listener);
  return std::find(kinds.begin(), kinds.end(), routeKind) != kinds.end();
}

bool matchesHostnames(const Object& route) { return route.kind() != "TCPRoute"; }

const std::map<size_t, ListenerProblem>* problemsOf(const GatewayListenerProblems& problems, const Object& gateway) {
  auto found = problems.find(gateway.ns() + "/" + gateway.name());
  return found == problems.end() ? nullptr : &found->second;
}

Verdict evaluateGatewayParent(const Object& route, const json::value& ref, const Object& gateway, const GatewayApiIndex& index,
                              const GatewayListenerProblems& problems) {
  if (stringAt(gateway.value(), {"spec", "gatewayClassName"}) == install::kWaypointGatewayClass) {
    return refused("UnsupportedValue", fmt::format("routes attached to the waypoint Gateway {}/{} are not served: attach them to a Service it serves",
                                                   gateway.ns(), gateway.name()));
  }
  const auto* listenerProblems = problemsOf(problems, gateway);
  std::vector<std::string> selected, leftOut, hostnames;
  bool admitted = false;
  Verdict verdict;
  size_t i = 0;
  for (const auto& listener : arrayAt(gateway.value(), {"spec", "listeners"})) {
    size_t position = i++;
    if (!parentRefSelectsListener(ref, listener)) continue;
    std::string name = stringAt(listener, {"name"});
    selected.push_back(name);
    if (listenerProblems != nullptr) {
      if (auto p = listenerProblems->find(position); p != listenerProblems->end() && p->second.leftOut) {
        leftOut.push_back(fmt::format("{} ({})", name, p->second.message));
        continue;
      }
    }
    if (!supports(listener, route.kind()) || !index.admits(gateway, listener, route)) continue;
    admitted = true;
    std::string host = stringAt(listener, {"hostname"});
    hostnames.push_back(host.empty() ? "*" : host);
    if (matchesHostnames(route) && domainsFor(host, arrayAt(route.value(), {"spec", "hostnames"})).empty()) continue;
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
  if (selected.size() == leftOut.size()) {
    return refused("NoMatchingParent", fmt::format("no listener of Gateway {} it names is served: {}", gw, fmt::join(leftOut, "; ")));
  }
  if (!admitted) {
    return refused("NotAllowedByListeners", fmt::format("no listener of Gateway {} it names ({}) allows a {} from namespace {}", gw,
                                                        fmt::join(selected, ", "), route.kind(), route.ns()));
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
  const Object* service = findObject(objects, "Service", ns, name);
  if (service == nullptr) return refused("NoMatchingParent", fmt::format("Service {}/{} does not exist", ns, name));
  if (auto port = intAt(ref, {"port"}); port != 0) {
    const auto& ports = arrayAt(service->value(), {"spec", "ports"});
    if (std::none_of(ports.begin(), ports.end(), [&](const json::value& p) { return intAt(p, {"port"}) == port; })) {
      return refused("NoMatchingParent", fmt::format("Service {}/{} has no port {}", ns, name, port));
    }
  }
  return {true, "Accepted", "Route was valid", {}};
}

// Which parent a parentRef names, and whether this weftd answers for it: a Gateway of a
// class weftd serves (by the Gateway's revision), a Gateway that does not exist, a Service
// or a ServiceEntry (by the route's). nullopt: not a parent weftd answers for.
struct Parent {
  enum class Kind { kGateway, kMissingGateway, kService, kServiceEntry } kind;
  const Object* gateway = nullptr;
};

std::optional<Parent> parentOf(const ObjectsByKind& objects, const Object& route, const json::value& ref, const AnswersFor& answersFor) {
  if (namesAnyGateway(ref)) {
    const Object* gateway = findObject(objects, kGatewayApiGatewayKind, stringOr(ref, {"namespace"}, route.ns()), stringAt(ref, {"name"}));
    if (gateway == nullptr) return answersFor(route) ? std::optional<Parent>(Parent{Parent::Kind::kMissingGateway}) : std::nullopt;
    if (!install::isManagedGatewayClass(stringAt(gateway->value(), {"spec", "gatewayClassName"})) || !answersFor(*gateway)) return std::nullopt;
    return Parent{Parent::Kind::kGateway, gateway};
  }
  if (namesCoreService(ref)) return answersFor(route) ? std::optional<Parent>(Parent{Parent::Kind::kService}) : std::nullopt;
  if (namesServiceEntry(ref)) return answersFor(route) ? std::optional<Parent>(Parent{Parent::Kind::kServiceEntry}) : std::nullopt;
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

std::optional<json::value> routeStatus(const ObjectsByKind& objects, const Object& route, const GatewayApiIndex& index,
                                       const GatewayListenerProblems& problems, const AnswersFor& answersFor, const std::string& now) {
  const auto& previous = arrayAt(route.value(), {"status", "parents"});
  int64_t generation = intAt(route.value(), {"metadata", "generation"});
  // Entries kept as they are: another controller's, and ours for parents another revision answers for.
  json::array parents;
  for (const auto& entry : previous) {
    if (stringAt(entry, {"controllerName"}) != kIstioGatewayController || !parentOf(objects, route, at(entry, {"parentRef"}), answersFor)) {
      parents.push_back(entry);
    }
  }
  std::optional<std::pair<std::string, std::string>> gatewayRefs, meshRefs;
  std::vector<json::value> seen;
  for (const auto& ref : arrayAt(route.value(), {"spec", "parentRefs"})) {
    auto parent = parentOf(objects, route, ref, answersFor);
    if (!parent) continue;
    json::value parentRef = echoed(ref);
    if (std::find(seen.begin(), seen.end(), parentRef) != seen.end()) continue;
    seen.push_back(parentRef);
    Verdict verdict;
    bool mesh = false;
    switch (parent->kind) {
      case Parent::Kind::kGateway:
        verdict = evaluateGatewayParent(route, ref, *parent->gateway, index, problems);
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
    parents.push_back(json::object{{"parentRef", std::move(parentRef)}, {"controllerName", kIstioGatewayController}, {"conditions", std::move(conditions)}});
  }
  if (parents == previous) return std::nullopt;
  json::object status = at(route.value(), {"status"}).is_object() ? at(route.value(), {"status"}).get_object() : json::object{};
  status["parents"] = std::move(parents);
  return json::value(std::move(status));
}

}  // namespace

json::array gatewayListenerStatuses(const ObjectsByKind& objects, const GatewayApiIndex& index, const Object& gateway,
                                    const GatewayListenerProblems& problems, const std::string& now) {
  const auto& listeners = arrayAt(gateway.value(), {"spec", "listeners"});
  // Routes attached to each listener (a route counts once per listener).
  std::vector<std::set<model::ObjectKey>> attached(listeners.size());
  for (const char* kind : kRouteKinds) {
    for (const auto& route : objectsOf(objects, kind)) {
      for (const auto& ref : arrayAt(route.value(), {"spec", "parentRefs"})) {
        if (!parentRefNamesGateway(ref, route, gateway)) continue;
        for (size_t i : evaluateGatewayParent(route, ref, gateway, index, problems).listeners) attached[i].insert(route.key());
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
                               {"attachedRoutes", static_cast<int64_t>(attached[i].size())},
                               {"conditions", std::move(conditions)}});
  }
  return out;
}

std::vector<StatusUpdate> planRouteStatuses(const ObjectsByKind& objects, const GatewayApiIndex& index, const GatewayListenerProblems& problems,
                                            const AnswersFor& answersFor, const std::string& now) {
  std::vector<StatusUpdate> out;
  for (const char* kind : kRouteKinds) {
    for (const auto& route : objectsOf(objects, kind)) {
      if (auto status = routeStatus(objects, route, index, problems, answersFor, now)) out.push_back({route.key(), std::move(*status)});
    }
  }
  return out;
}

const std::vector<std::string>& statusRouteKinds() {
  static const std::vector<std::string> kinds(std::begin(kRouteKinds), std::end(kRouteKinds));
  return kinds;
}

}  // namespace weft::control
