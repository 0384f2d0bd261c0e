#include "cli/pod_target.h"

#include <boost/json.hpp>

#include "model/json_access.h"
#include "model/service_ports.h"

namespace weft::cli {

namespace json = boost::json;
using model::at;
using model::stringAt;

namespace {

Result<model::Object> firstSelectedPod(const store::LocalStore& store, const model::Object& owner, const json::value& selector) {
  auto pods = store.list("Pod", owner.ns());
  if (!pods) return pods.error();
  const model::Object* pick = nullptr;
  for (const auto& pod : *pods) {
    if (!model::selectorMatches(selector, pod)) continue;
    bool running = stringAt(pod.value(), {"status", "phase"}) == "Running";
    if (pick == nullptr || (running && stringAt(pick->value(), {"status", "phase"}) != "Running")) pick = &pod;
  }
  if (pick == nullptr) return makeError("no pods found for {}", owner.friendlyName());
  return *pick;
}

}  // namespace

Result<ClusterContext> openCluster(const StoreFlags& flags) {
  auto home = localcluster::weftHome();
  std::string name = localcluster::selectedClusterName(home, flags.cluster);
  if (name.empty()) return makeError("no local cluster: create one with `weft cluster create --name NAME`");
  auto config = localcluster::loadCluster(home, name);
  if (!config) return config.error();
  auto paths = localcluster::clusterPaths(home, name);
  auto store = store::LocalStore::open(paths.store());
  if (!store) return store.error();
  return ClusterContext{std::move(*config), paths, std::move(*store)};
}

Result<PodTarget> findPod(const store::LocalStore& store, const std::string& ns, const std::string& target) {
  std::string type = "pod";
  std::string name = target;
  if (auto slash = target.find('/'); slash != std::string::npos) {
    type = target.substr(0, slash);
    name = target.substr(slash + 1);
  }
  if (type == "pod" || type == "pods" || type == "po") {
    auto pod = store.get({"Pod", ns, name});
    if (!pod) return pod.error();
    if (!*pod) return makeError("pods \"{}\" not found", name);
    return PodTarget{std::move(**pod), std::nullopt};
  }
  if (type == "deploy" || type == "deployment" || type == "deployments" || type == "daemonset" || type == "ds") {
    bool daemonSet = type == "daemonset" || type == "ds";
    std::string kind = daemonSet ? "DaemonSet.apps" : "Deployment.apps";
    auto workload = store.get({kind, ns, name});
    if (!workload) return workload.error();
    if (!*workload) return makeError("{}.apps \"{}\" not found", daemonSet ? "daemonsets" : "deployments", name);
    auto pod = firstSelectedPod(store, **workload, at((*workload)->value(), {"spec", "selector", "matchLabels"}));
    if (!pod) return pod.error();
    return PodTarget{std::move(*pod), std::nullopt};
  }
  if (type == "svc" || type == "service" || type == "services") {
    auto service = store.get({"Service", ns, name});
    if (!service) return service.error();
    if (!*service) return makeError("services \"{}\" not found", name);
    auto pod = firstSelectedPod(store, **service, at((*service)->value(), {"spec", "selector"}));
    if (!pod) return pod.error();
    return PodTarget{std::move(*pod), std::move(**service)};
  }
  return makeError("error: unknown resource type \"{}\" (want a pod, deploy/NAME or svc/NAME)", type);
}

std::string podNetns(const ClusterContext& cluster, const model::Object& pod) {
  if (at(pod.value(), {"spec", "hostNetwork"}) == json::value(true)) return localcluster::clusterNetnsName(cluster.config.name);
  return localcluster::podNetnsName(cluster.config.name, pod.ns(), pod.name());
}

}  // namespace weft::cli
