#include "install/kubernetes_settings.h"

#include <boost/json.hpp>
#include <string_view>

#include "install/spec_access.h"

namespace weft::install {
namespace {

namespace json = boost::json;

// The object at `key` of `parent`, created when absent or not an object.
json::object& objectAt(json::object& parent, std::string_view key) {
  auto& v = parent[key];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}

json::array& arrayAt(json::object& parent, std::string_view key) {
  auto& v = parent[key];
  if (!v.is_array()) v = json::array();
  return v.as_array();
}

void copyIfSet(const json::object& from, std::string_view key, json::object& to, std::string_view as) {
  if (const auto* v = from.if_contains(key); v != nullptr && !v->is_null()) to[as] = *v;
}

void appendAll(const json::value& items, json::array& to) {
  if (!items.is_array()) return;
  for (const auto& item : items.get_array()) to.push_back(item);
}

// k8s.env entries replace the rendered entry of the same name, else are added.
void mergeEnv(const json::value& env, json::object& container) {
  if (!env.is_array()) return;
  auto& rendered = arrayAt(container, "env");
  for (const auto& entry : env.get_array()) {
    const auto* name = entry.is_object() ? entry.get_object().if_contains("name") : nullptr;
    json::value* same = nullptr;
    for (auto& existing : rendered) {
      if (name != nullptr && existing.is_object() && existing.get_object().if_contains("name") &&
          existing.get_object().at("name") == *name) {
        same = &existing;
      }
    }
    if (same != nullptr) {
      *same = entry;
    } else {
      rendered.push_back(entry);
    }
  }
}

void mergeMap(const json::value& from, json::object& to) {
  if (!from.is_object()) return;
  for (const auto& entry : from.get_object()) to[entry.key()] = entry.value();
}

}  // namespace

void applyWorkloadSettings(const json::object& k8s, json::object& workload) {
  const bool deployment = specAt(workload, {"kind"}) == json::value("Deployment");
  auto& spec = objectAt(workload, "spec");
  auto& pod = objectAt(objectAt(spec, "template"), "spec");
  auto& containers = arrayAt(pod, "containers");
  if (containers.empty() || !containers[0].is_object()) containers.emplace_back(json::object());
  auto& container = containers[0].as_object();

  if (deployment) {
    copyIfSet(k8s, "replicaCount", spec, "replicas");
    copyIfSet(k8s, "strategy", spec, "strategy");
  }
  mergeEnv(specAt(k8s, {"env"}), container);
  for (std::string_view key : {"resources", "imagePullPolicy", "readinessProbe"}) copyIfSet(k8s, key, container, key);
  appendAll(specAt(k8s, {"volumeMounts"}), arrayAt(container, "volumeMounts"));
  for (std::string_view key : {"nodeSelector", "affinity", "tolerations", "priorityClassName", "securityContext"}) {
    copyIfSet(k8s, key, pod, key);
  }
  appendAll(specAt(k8s, {"volumes"}), arrayAt(pod, "volumes"));
  mergeMap(specAt(k8s, {"podAnnotations"}), objectAt(objectAt(objectAt(spec, "template"), "metadata"), "annotations"));

  // Empty lists left by the appends above would only add noise to the object.
  if (container["volumeMounts"].as_array().empty()) container.erase("volumeMounts");
  if (pod["volumes"].as_array().empty()) pod.erase("volumes");
  auto& tmplMeta = objectAt(objectAt(spec, "template"), "metadata");
  if (tmplMeta["annotations"].as_object().empty()) tmplMeta.erase("annotations");
}

void applyServiceSettings(const json::object& k8s, json::object& service) {
  mergeMap(specAt(k8s, {"serviceAnnotations"}), objectAt(objectAt(service, "metadata"), "annotations"));
  auto& metadata = objectAt(service, "metadata");
  if (metadata["annotations"].as_object().empty()) metadata.erase("annotations");
  const auto& overrides = specAt(k8s, {"service"});
  if (!overrides.is_object()) return;
  auto& spec = objectAt(service, "spec");
  for (const auto& entry : overrides.get_object()) {
    // An empty ports list keeps the rendered ports, as Istio's charts keep their defaults.
    if (entry.key() == "ports" && (!entry.value().is_array() || entry.value().get_array().empty())) continue;
    spec[entry.key()] = entry.value();
  }
}

}  // namespace weft::install
