#include "control/gateway_deployer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <set>

#include "control/ingress_view.h"
#include "control/status_condition.h"
#include "install/install_names.h"
#include "install/managed_gateway_objects.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::Object;
using model::ObjectKey;
using model::stringAt;

namespace {

constexpr const char* kGatewayKind = "Gateway.gateway.networking.k8s.io";
constexpr const char* kGatewayClassKind = "GatewayClass.gateway.networking.k8s.io";
const char* const kManagedKinds[] = {"ServiceAccount", "Service", "Deployment.apps"};

// The revisions whose control plane is installed: weftd Deployments (app=istiod) in
// istio-system, by their istio.io/rev label. This weftd's own revision always counts.
std::set<std::string> installedRevisions(const ObjectsByKind& objects, const std::string& own) {
  std::set<std::string> revisions{own};
  for (const auto& d : objectsOf(objects, "Deployment.apps")) {
    if (d.ns() == install::kIstioNamespace && d.label("app") == "istiod" && !d.label(install::kRevisionLabel).empty()) {
      revisions.insert(d.label(install::kRevisionLabel));
    }
  }
  return revisions;
}

std::string servingRevision(const Object& gateway, const std::set<std::string>& installed) {
  std::string labelled = gateway.label(install::kRevisionLabel);
  if (!labelled.empty()) return labelled;
  return installed.contains("default") ? "default" : *installed.begin();
}

// Whether every field `desired` sets has the same value in `current` (fields only
// `current` has, such as a Service's clusterIP, do not count).
bool covers(const json::value& current, const json::value& desired) {
  if (desired.is_object()) {
    if (!current.is_object()) return false;
    for (const auto& [key, value] : desired.get_object()) {
      const auto* found = current.get_object().if_contains(key);
      if (found == nullptr || !covers(*found, value)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!current.is_array() || current.get_array().size() != desired.get_array().size()) return false;
    for (size_t i = 0; i < desired.get_array().size(); ++i) {
      if (!covers(current.get_array()[i], desired.get_array()[i])) return false;
    }
    return true;
  }
  return current == desired;
}

bool upToDate(const Object& current, const Object& desired) {
  return covers(at(current.value(), {"metadata", "labels"}), at(desired.value(), {"metadata", "labels"})) &&
         covers(at(current.value(), {"spec"}), at(desired.value(), {"spec"}));
}

// The Service's addresses as Gateway status addresses: a LoadBalancer's ingress, else the
// ClusterIP.
json::array addressesOf(const Object* service) {
  json::array out;
  if (service == nullptr) return out;
  if (stringAt(service->value(), {"spec", "type"}) == "LoadBalancer") {
    for (const auto& ingress : arrayAt(service->value(), {"status", "loadBalancer", "ingress"})) {
      if (auto ip = stringAt(ingress, {"ip"}); !ip.empty()) out.push_back(json::object{{"type", "IPAddress"}, {"value", ip}});
      if (auto host = stringAt(ingress, {"hostname"}); !host.empty()) out.push_back(json::object{{"type", "Hostname"}, {"value", host}});
    }
    return out;
  }
  if (auto ip = stringAt(service->value(), {"spec", "clusterIP"}); !ip.empty() && ip != "None") {
    out.push_back(json::object{{"type", "IPAddress"}, {"value", ip}});
  }
  return out;
}

json::value gatewayStatus(const Object& gateway, const std::string& serviceName, const Object* service, const std::string& now,
                          std::optional<json::array> listeners) {
  const auto& previous = at(gateway.value(), {"status"});
  int64_t generation = intAt(gateway.value(), {"metadata", "generation"});
  json::array addresses = addressesOf(service);
  std::string ports;
  if (service != nullptr) {
    for (const auto& p : arrayAt(service->value(), {"spec", "ports"})) ports += fmt::format("{}{}", ports.empty() ? "" : ",", intAt(p, {"port"}));
  }
  std::string hostname = fmt::format("{}.{}.svc.cluster.local", serviceName, gateway.ns());
  bool programmed = !addresses.empty();
  // Listeners not programmed (left out, or missing their Secret): the Gateway is accepted
  // with reason ListenersNotValid while one is valid, and not at all when none is.
  std::vector<std::string> invalid;
  if (listeners) {
    for (const auto& l : *listeners) {
      for (const auto& c : arrayAt(l, {"conditions"})) {
        if (stringAt(c, {"type"}) == "Programmed" && stringAt(c, {"status"}) == "False") invalid.push_back(stringAt(l, {"name"}));
      }
    }
  }
  bool noneValid = listeners && !listeners->empty() && invalid.size() == listeners->size();
  json::array conditions{
      invalid.empty() ? statusCondition(previous, "Accepted", true, "Accepted", "Resource accepted", generation, now)
                      : statusCondition(previous, "Accepted", !noneValid, "ListenersNotValid",
                                        fmt::format("Invalid listeners: {}", fmt::join(invalid, ", ")), generation, now),
      programmed ? statusCondition(previous, "Programmed", true, "Programmed",
                             fmt::format("Resource programmed, assigned to service(s) {}:{}", hostname, ports), generation, now)
                 : statusCondition(previous, "Programmed", false, "AddressNotAssigned",
                             fmt::format("Assigned to service(s) {}, but it has no address yet", hostname), generation, now)};
  json::object status{{"addresses", std::move(addresses)}, {"conditions", std::move(conditions)}};
  if (listeners) status["listeners"] = std::move(*listeners);
  return status;
}

// Istio makes its GatewayClasses itself; so does weftd, when they are missing (a user's
// own GatewayClass of the same name is left alone).
std::vector<Object> missingGatewayClasses(const ObjectsByKind& objects) {
  struct Class {
    const char* name;
    const char* controller;
    const char* description;
  };
  static const Class classes[] = {{"istio", "istio.io/gateway-controller", "The default Istio GatewayClass"},
                                  {"istio-waypoint", "istio.io/mesh-controller", "The default Istio waypoint GatewayClass"}};
  std::vector<Object> out;
  for (const auto& c : classes) {
    const auto& existing = objectsOf(objects, kGatewayClassKind);
    if (std::any_of(existing.begin(), existing.end(), [&](const Object& o) { return o.name() == c.name; })) continue;
    json::value value{{"apiVersion", "gateway.networking.k8s.io/v1"},
                      {"kind", "GatewayClass"},
                      {"metadata", json::object{{"name", c.name}}},
                      {"spec", json::object{{"controllerName", c.controller}, {"description", c.description}}}};
    out.emplace_back(model::findKind("gateway.networking.k8s.io/v1", "GatewayClass"), std::move(value));
  }
  return out;
}

}  // namespace

const std::vector<std::string>& gatewayDeployerKinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> out{kGatewayKind, kGatewayClassKind, "ServiceAccount", "Service", "Deployment.apps", "Namespace", kGatewayApiReferenceGrantKind,
                                 kIngressKind, kIngressClassKind};
    for (const auto& kind : statusRouteKinds()) out.push_back(kind);
    return out;
  }();
  return kinds;
}

GatewayDeploymentPlan planGatewayDeployment(const ObjectsByKind& objects, const std::string& revision, const std::string& weftVersion,
                                            const std::string& now, const GatewayApiProblems& problems, const weft::v1::MeshConfig& mesh) {
  GatewayDeploymentPlan plan;
  plan.create = missingGatewayClasses(objects);
  auto installed = installedRevisions(objects, revision);
  GatewayApiIndex index(objects);
  std::set<ObjectKey> wanted;
  for (const auto& gateway : objectsOf(objects, kGatewayKind)) {
    std::string className = stringAt(gateway.value(), {"spec", "gatewayClassName"});
    if (!install::isManagedGatewayClass(className) || servingRevision(gateway, installed) != revision) continue;
    install::ManagedGateway managed{.name = gateway.name(),
                                    .ns = gateway.ns(),
                                    .className = className,
                                    .revision = revision == "default" ? "" : revision,
                                    .listeners = arrayAt(gateway.value(), {"spec", "listeners"})};
    for (auto& desired : install::managedGatewayObjects(managed, weftVersion)) {
      wanted.insert(desired.key());
      const Object* current = findObject(objects, desired.key());
      if (current == nullptr) {
        plan.create.push_back(std::move(desired));
      } else if (!upToDate(*current, desired)) {
        plan.update.push_back(std::move(desired));
      }
    }
    std::string serviceName = install::managedGatewayResourceName(managed);
    const Object* service = findObject(objects, {"Service", gateway.ns(), serviceName});
    std::optional<json::array> listeners;
    if (className == install::kIngressGatewayClass) listeners = gatewayListenerStatuses(objects, index, gateway, problems, now);
    json::value status = gatewayStatus(gateway, serviceName, service, now, std::move(listeners));
    if (status != at(gateway.value(), {"status"})) plan.statuses.push_back({gateway.key(), std::move(status), std::nullopt});
  }
  // Ingresses Istio serves show the ingress gateway's address, as istiod writes it: the
  // LoadBalancer Service meshConfig.ingressService names in istio-system. When there is
  // none of that name, the one there that selects the ingressSelector's pods (the
  // walkthrough's gateway is not named istio-ingressgateway; istiod would show none).
  IngressMeshSettings ingressSettings = ingressMeshSettings(mesh);
  const Object* ingressService = findObject(objects, {"Service", std::string(install::kIstioNamespace), ingressSettings.service});
  for (const auto& s : objectsOf(objects, "Service")) {
    if (ingressService != nullptr) break;
    if (s.ns() == install::kIstioNamespace && stringAt(s.value(), {"spec", "selector", "istio"}) == ingressSettings.selector) ingressService = &s;
  }
  json::array address = ingressService == nullptr ? json::array{} : arrayAt(ingressService->value(), {"status", "loadBalancer", "ingress"});
  for (const auto& ingress : objectsOf(objects, kIngressKind)) {
    if (servingRevision(ingress, installed) != revision) continue;
    const json::value& was = at(ingress.value(), {"status"});
    if (!servedIngress(objects, ingress, ingressSettings)) {
      // No longer Istio's (its class or the mesh config changed): the address it showed is
      // taken back, as istiod (1.27 on) does; an address another controller wrote stays,
      // written before this plan or (onlyOver) since.
      const auto& shown = at(was, {"loadBalancer", "ingress"});
      if (address.empty() || !shown.is_array() || shown.as_array() != address) continue;
      plan.statuses.push_back({ingress.key(), json::object{{"loadBalancer", json::object{}}}, was});
      continue;
    }
    json::value status = json::object{{"loadBalancer", json::object{{"ingress", address}}}};
    if (status != was) plan.statuses.push_back({ingress.key(), std::move(status), std::nullopt});
  }
  StatusRevisions revisions{[&](const Object& o) { return servingRevision(o, installed); }, revision, installed};
  for (auto& update : planRouteStatuses(objects, index, problems, revisions, now)) plan.statuses.push_back(std::move(update));
  // What this revision rendered for a Gateway that is gone (or changed class or revision).
  std::string revisionLabel = install::revisionLabelValue(revision == "default" ? "" : revision);
  for (const char* kind : kManagedKinds) {
    for (const auto& o : objectsOf(objects, kind)) {
      std::string managedBy = o.label(install::kManagedGatewayLabel);
      if (managedBy != install::managedByValue(install::kIngressGatewayClass) &&
          managedBy != install::managedByValue(install::kWaypointGatewayClass)) {
        continue;
      }
      if (o.label(install::kRevisionLabel) != revisionLabel || wanted.contains(o.key())) continue;
      plan.remove.push_back(o.key());
    }
  }
  return plan;
}

json::value mergeManagedObject(const json::value& current, const json::value& desired) {
  json::value merged = current;
  auto& out = merged.as_object();
  out["metadata"].as_object()["labels"] = at(desired, {"metadata", "labels"});
  json::value spec = at(desired, {"spec"});
  const auto& was = at(current, {"spec"});
  if (stringAt(current, {"kind"}) == "Service" && spec.is_object()) {
    for (const char* field : {"clusterIP", "clusterIPs"}) {
      if (!at(was, {field}).is_null()) spec.as_object()[field] = at(was, {field});
    }
    for (auto& port : spec.as_object()["ports"].as_array()) {
      for (const auto& old : arrayAt(was, {"ports"})) {
        if (intAt(old, {"port"}) == intAt(port, {"port"}) && !at(old, {"nodePort"}).is_null()) port.as_object()["nodePort"] = at(old, {"nodePort"});
      }
    }
  }
  out["spec"] = std::move(spec);
  return merged;
}

void applyGatewayDeployment(store::LocalStore& store, const GatewayDeploymentPlan& plan) {
  for (const auto& object : plan.create) {
    // create, not apply: an object made meanwhile (by another weftd, or the runtime) is
    // never overwritten with one that lacks its node ports.
    if (auto applied = store.create(object); !applied) {
      spdlog::warn("gateway deployer: creating {}: {}", object.friendlyName(), applied.error().message);
    } else {
      spdlog::info("gateway deployer: created {}", object.friendlyName());
    }
  }
  for (const auto& object : plan.update) {
    const json::value& desired = object.value();
    auto updated = store.update(object.key(), [&desired](json::value& current) -> Status {
      current = mergeManagedObject(current, desired);
      return {};
    });
    if (!updated) spdlog::warn("gateway deployer: updating {}: {}", object.friendlyName(), updated.error().message);
  }
  for (const auto& key : plan.remove) {
    if (auto removed = store.remove({key}); !removed) {
      spdlog::warn("gateway deployer: deleting {} {}/{}: {}", key.kind, key.ns, key.name, removed.error().message);
    } else {
      spdlog::info("gateway deployer: deleted {} {}/{} (its Gateway is gone)", key.kind, key.ns, key.name);
    }
  }
  for (const auto& change : plan.statuses) {
    auto updated = store.update(change.object, [&change](json::value& current) -> Status {
      if (change.onlyOver && at(current, {"status"}) != *change.onlyOver) return makeError("its status changed since the plan: left as it is");
      current.as_object()["status"] = change.status;
      return {};
    });
    if (!updated) spdlog::debug("gateway deployer: status of {} {}/{}: {}", change.object.kind, change.object.ns, change.object.name, updated.error().message);
  }
}

}  // namespace weft::control
