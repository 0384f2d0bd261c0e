#include "localcluster/workload_controller.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "model/json_access.h"

namespace weft::localcluster {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::Object;
using model::stringAt;

namespace {

constexpr std::string_view kSafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";
constexpr size_t kMaxGeneratedNameBase = 58;  // what the API server keeps of generateName

struct Owner {
  std::string kind;
  std::string name;
};

std::optional<Owner> controllerOf(const Object& pod) {
  const auto& refs = at(pod.value(), {"metadata", "ownerReferences"});
  if (!refs.is_array()) return std::nullopt;
  for (const auto& ref : refs.get_array()) {
    if (at(ref, {"controller"}) == json::value(true)) return Owner{stringAt(ref, {"kind"}), stringAt(ref, {"name"})};
  }
  return std::nullopt;
}

std::string hashOf(std::string_view text) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  std::string digits = std::to_string(hash);
  for (auto& c : digits) c = kSafeAlphabet[static_cast<unsigned char>(c) % kSafeAlphabet.size()];
  return digits;
}

int64_t replicasOf(const Object& deployment) {
  const auto& replicas = at(deployment.value(), {"spec", "replicas"});
  return replicas.is_int64() ? replicas.get_int64() : 1;
}

// A pod object from a workload's template, with the defaults the API server fills in.
json::value podFromTemplate(const Object& workload, const std::string& name, const std::string& node, json::object extraLabels,
                            json::object ownerRef) {
  const auto& tmpl = at(workload.value(), {"spec", "template"});
  json::object metadata;
  metadata["name"] = name;
  metadata["namespace"] = workload.ns();
  json::object labels = at(tmpl, {"metadata", "labels"}).is_object() ? at(tmpl, {"metadata", "labels"}).get_object() : json::object();
  for (const auto& [k, v] : extraLabels) labels[k] = v;
  metadata["labels"] = std::move(labels);
  if (const auto& annotations = at(tmpl, {"metadata", "annotations"}); annotations.is_object()) metadata["annotations"] = annotations;
  ownerRef["controller"] = true;
  ownerRef["blockOwnerDeletion"] = true;
  metadata["ownerReferences"] = json::array{std::move(ownerRef)};
  json::object spec = at(tmpl, {"spec"}).is_object() ? at(tmpl, {"spec"}).get_object() : json::object();
  spec["nodeName"] = node;
  if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
  if (!spec.contains("serviceAccountName")) spec["serviceAccountName"] = "default";
  if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
  if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
  if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
  return json::object{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(metadata)}, {"spec", std::move(spec)}};
}

std::string generatedName(const std::string& base, const std::function<std::string()>& randomSuffix) {
  std::string prefix = base.substr(0, kMaxGeneratedNameBase);
  if (!prefix.empty() && prefix.back() != '-') prefix += '-';
  return prefix + randomSuffix();
}

void planDeployment(const Object& deployment, const WorkloadInputs& inputs, const std::function<std::string()>& randomSuffix,
                    WorkloadChanges& changes) {
  std::string hash = podTemplateHash(at(deployment.value(), {"spec", "template"}));
  std::string replicaSet = deployment.name() + "-" + hash;
  std::vector<const Object*> current, old;
  for (const Object* pod : ownedPods(deployment, *inputs.pods)) (pod->label("pod-template-hash") == hash ? current : old).push_back(pod);
  int64_t wanted = replicasOf(deployment);
  for (int64_t i = static_cast<int64_t>(current.size()); i < wanted; ++i) {
    json::object ownerRef{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", replicaSet},
                          {"uid", hashOf(deployment.ns() + "/" + replicaSet)}};
    std::string node = pickNode(inputs.nodes, *inputs.pods, changes.create);
    changes.create.push_back(podFromTemplate(deployment, generatedName(replicaSet, randomSuffix), node,
                                             json::object{{"pod-template-hash", hash}}, std::move(ownerRef)));
  }
  // Scale down: the not-ready and the newest go first, as the ReplicaSet controller picks.
  std::sort(current.begin(), current.end(), [](const Object* a, const Object* b) {
    if (podIsReady(*a) != podIsReady(*b)) return !podIsReady(*a);
    return stringAt(a->value(), {"metadata", "creationTimestamp"}) > stringAt(b->value(), {"metadata", "creationTimestamp"});
  });
  for (size_t i = 0; static_cast<int64_t>(current.size() - i) > wanted; ++i) changes.remove.push_back(current[i]->key());
  // A rollout: old pods go once the new template's pods are ready (a surge, never a gap).
  auto readyNew = std::count_if(current.begin(), current.end(), [](const Object* p) { return podIsReady(*p); });
  if (readyNew >= wanted || wanted == 0) {
    for (const Object* pod : old) changes.remove.push_back(pod->key());
  }
}

// One pod per node. A template change replaces them node by node; with
// rollingUpdate.maxSurge (Istio's ztunnel has 1, maxUnavailable 0) the new pod starts beside
// the old one, which goes only once the new one is ready: no moment without a pod.
void planDaemonSet(const Object& daemonSet, const WorkloadInputs& inputs, const std::function<std::string()>& randomSuffix,
                   WorkloadChanges& changes) {
  std::string hash = podTemplateHash(at(daemonSet.value(), {"spec", "template"}));
  const auto& surge = at(daemonSet.value(), {"spec", "updateStrategy", "rollingUpdate", "maxSurge"});
  bool surgeAllowed = (surge.is_int64() && surge.get_int64() > 0) || (surge.is_string() && surge.get_string() != "0" && surge.get_string() != "0%");
  struct OnNode {
    const Object* current = nullptr;
    std::vector<const Object*> old;
  };
  std::map<std::string, OnNode> byNode;
  for (const Object* pod : ownedPods(daemonSet, *inputs.pods)) {
    std::string node = stringAt(pod->value(), {"spec", "nodeName"});
    bool knownNode = std::any_of(inputs.nodes.begin(), inputs.nodes.end(), [&](const NodeInfo& n) { return n.name == node; });
    if (!knownNode) {
      changes.remove.push_back(pod->key());
    } else if (pod->label("controller-revision-hash") != hash) {
      byNode[node].old.push_back(pod);
    } else if (byNode[node].current != nullptr) {
      changes.remove.push_back(pod->key());
    } else {
      byNode[node].current = pod;
    }
  }
  for (const auto& node : inputs.nodes) {
    OnNode& here = byNode[node.name];
    bool replaceOldNow = !surgeAllowed || (here.current != nullptr && podIsReady(*here.current));
    if (replaceOldNow) {
      for (const Object* pod : here.old) changes.remove.push_back(pod->key());
    }
    if (here.current != nullptr) continue;
    json::object ownerRef{{"apiVersion", "apps/v1"}, {"kind", "DaemonSet"}, {"name", daemonSet.name()},
                          {"uid", stringAt(daemonSet.value(), {"metadata", "uid"})}};
    changes.create.push_back(podFromTemplate(daemonSet, generatedName(daemonSet.name(), randomSuffix), node.name,
                                             json::object{{"controller-revision-hash", hash}}, std::move(ownerRef)));
  }
}

}  // namespace

std::string podTemplateHash(const json::value& tmpl) { return hashOf(json::serialize(tmpl)); }

std::string randomNameSuffix(std::mt19937_64& random) {
  std::string suffix;
  for (int i = 0; i < 5; ++i) suffix += kSafeAlphabet[random() % kSafeAlphabet.size()];
  return suffix;
}

std::string pickNode(const std::vector<NodeInfo>& nodes, const std::vector<Object>& pods, const std::vector<json::value>& alsoPlaced) {
  std::map<std::string, size_t> load;
  for (const auto& pod : pods) load[stringAt(pod.value(), {"spec", "nodeName"})]++;
  for (const auto& pod : alsoPlaced) load[stringAt(pod, {"spec", "nodeName"})]++;
  const NodeInfo* best = nullptr;
  for (const auto& node : nodes) {
    if (best == nullptr || load[node.name] < load[best->name]) best = &node;
  }
  return best ? best->name : std::string();
}

bool podIsReady(const Object& pod) {
  const auto& conditions = at(pod.value(), {"status", "conditions"});
  if (!conditions.is_array()) return false;
  for (const auto& c : conditions.get_array()) {
    if (stringAt(c, {"type"}) == "Ready") return stringAt(c, {"status"}) == "True";
  }
  return false;
}

std::vector<const Object*> ownedPods(const Object& workload, const std::vector<Object>& pods) {
  std::vector<const Object*> owned;
  bool deployment = workload.kind() == "Deployment";
  for (const auto& pod : pods) {
    if (pod.ns() != workload.ns()) continue;
    auto owner = controllerOf(pod);
    if (!owner) continue;
    if (deployment ? owner->kind == "ReplicaSet" && owner->name == workload.name() + "-" + pod.label("pod-template-hash")
                   : owner->kind == "DaemonSet" && owner->name == workload.name()) {
      owned.push_back(&pod);
    }
  }
  return owned;
}

WorkloadChanges planWorkloads(const WorkloadInputs& inputs, const std::function<std::string()>& randomSuffix) {
  WorkloadChanges changes;
  for (const auto& deployment : *inputs.deployments) planDeployment(deployment, inputs, randomSuffix, changes);
  for (const auto& daemonSet : *inputs.daemonSets) planDaemonSet(daemonSet, inputs, randomSuffix, changes);
  // Garbage collection: pods whose controlling workload is gone.
  for (const auto& pod : *inputs.pods) {
    auto owner = controllerOf(pod);
    if (!owner) continue;
    bool deploymentPod = owner->kind == "ReplicaSet";
    const auto& owners = deploymentPod ? *inputs.deployments : *inputs.daemonSets;
    bool alive = std::any_of(owners.begin(), owners.end(), [&](const Object& w) {
      return w.ns() == pod.ns() &&
             (deploymentPod ? owner->name == w.name() + "-" + pod.label("pod-template-hash") : owner->name == w.name());
    });
    if (!alive && (deploymentPod || owner->kind == "DaemonSet")) changes.remove.push_back(pod.key());
  }
  std::sort(changes.remove.begin(), changes.remove.end());
  changes.remove.erase(std::unique(changes.remove.begin(), changes.remove.end()), changes.remove.end());
  return changes;
}

namespace {

// A Deployment condition as kube-controller-manager writes it: lastTransitionTime kept while
// its status holds, lastUpdateTime while its reason does too (a pass that changes nothing
// writes nothing).
json::object deploymentCondition(const Object& deployment, const std::string& type, bool ok, const std::string& reason,
                                 const std::string& message, const std::string& now) {
  std::string transition = now, update = now;
  for (const auto& c : arrayAt(deployment.value(), {"status", "conditions"})) {
    if (stringAt(c, {"type"}) != type || stringAt(c, {"status"}) != (ok ? "True" : "False")) continue;
    if (auto kept = stringAt(c, {"lastTransitionTime"}); !kept.empty()) transition = kept;
    if (auto kept = stringAt(c, {"lastUpdateTime"}); !kept.empty() && stringAt(c, {"reason"}) == reason) update = kept;
  }
  return json::object{{"type", type},       {"status", ok ? "True" : "False"}, {"reason", reason},
                      {"message", message}, {"lastUpdateTime", update},         {"lastTransitionTime", transition}};
}

// A rollingUpdate count or percentage of `desired` (rounded down, or up for maxSurge).
int64_t resolveIntOrPercent(const json::value& value, int64_t desired, int64_t defaultPercent, bool roundUp) {
  if (value.is_int64()) return std::max<int64_t>(0, value.get_int64());
  int64_t percent = defaultPercent;
  if (value.is_string()) {
    std::string text(value.get_string());
    if (!text.empty() && text.back() == '%') text.pop_back();
    percent = std::clamp<int64_t>(std::atoll(text.c_str()), 0, 100);
  }
  return roundUp ? (desired * percent + 99) / 100 : desired * percent / 100;
}

// The pods that may be unavailable during an update, as Kubernetes resolves it: 25% of
// `desired` rounded down by default, 0 for Recreate, and 1 when it and maxSurge both come
// to 0 (an update must be able to move).
int64_t maxUnavailable(const Object& deployment, int64_t desired) {
  if (stringAt(deployment.value(), {"spec", "strategy", "type"}) == "Recreate") return 0;
  const auto& rolling = at(deployment.value(), {"spec", "strategy", "rollingUpdate"});
  int64_t unavailable = resolveIntOrPercent(at(rolling, {"maxUnavailable"}), desired, 25, false);
  int64_t surge = resolveIntOrPercent(at(rolling, {"maxSurge"}), desired, 25, true);
  return unavailable == 0 && surge == 0 ? 1 : unavailable;
}

}  // namespace

boost::json::value deploymentStatus(const Object& deployment, const std::vector<Object>& pods, const std::string& now) {
  std::string hash = podTemplateHash(at(deployment.value(), {"spec", "template"}));
  int64_t replicas = 0, updated = 0, ready = 0;
  for (const Object* pod : ownedPods(deployment, pods)) {
    ++replicas;
    if (pod->label("pod-template-hash") == hash) ++updated;
    if (podIsReady(*pod)) ++ready;
  }
  json::object status{{"observedGeneration", at(deployment.value(), {"metadata", "generation"})},
                      {"replicas", replicas},
                      {"updatedReplicas", updated},
                      {"readyReplicas", ready},
                      {"availableReplicas", ready}};
  if (replicas > ready) status["unavailableReplicas"] = replicas - ready;
  // What `kubectl wait --for=condition=available` and `kubectl rollout status` read.
  const auto& wanted = at(deployment.value(), {"spec", "replicas"});
  int64_t desired = wanted.is_int64() ? wanted.get_int64() : 1;
  bool available = ready >= desired - maxUnavailable(deployment, desired);
  std::string replicaSet = fmt::format("{}-{}", deployment.name(), hash);
  bool complete = updated == desired && replicas == desired && ready == desired;
  status["conditions"] = json::array{
      available ? deploymentCondition(deployment, "Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability.", now)
                : deploymentCondition(deployment, "Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", now),
      complete ? deploymentCondition(deployment, "Progressing", true, "NewReplicaSetAvailable",
                                     fmt::format("ReplicaSet \"{}\" has successfully progressed.", replicaSet), now)
               : deploymentCondition(deployment, "Progressing", true, "ReplicaSetUpdated", fmt::format("ReplicaSet \"{}\" is progressing.", replicaSet), now)};
  return status;
}

boost::json::value daemonSetStatus(const Object& daemonSet, const std::vector<Object>& pods, size_t nodeCount) {
  std::string hash = podTemplateHash(at(daemonSet.value(), {"spec", "template"}));
  int64_t scheduled = 0, updated = 0, ready = 0;
  for (const Object* pod : ownedPods(daemonSet, pods)) {
    ++scheduled;
    if (pod->label("controller-revision-hash") == hash) ++updated;
    if (podIsReady(*pod)) ++ready;
  }
  return json::object{{"observedGeneration", at(daemonSet.value(), {"metadata", "generation"})},
                      {"desiredNumberScheduled", static_cast<int64_t>(nodeCount)},
                      {"currentNumberScheduled", scheduled},
                      {"updatedNumberScheduled", updated},
                      {"numberReady", ready},
                      {"numberAvailable", ready},
                      {"numberMisscheduled", 0}};
}

}  // namespace weft::localcluster
