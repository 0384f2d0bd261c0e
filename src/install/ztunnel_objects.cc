#include <fmt/format.h>

#include <boost/json.hpp>

#include "install/component_objects.h"
#include "install/install_names.h"
#include "install/k8s_objects.h"
#include "install/kubernetes_settings.h"
#include "install/spec_access.h"

namespace weft::install {
namespace {

namespace json = boost::json;

json::object ztunnelContainer(const InstallPlan& plan, std::string_view weftVersion) {
  const std::string istiod = istiodAddress(plan.revision);
  return json::object{
      {"name", "istio-proxy"},
      {"image", fmt::format("docker.io/weft/ztunnel:{}", weftVersion)},
      {"ports", json::array{containerPort(15020, "ztunnel-stats"), containerPort(15021, "status-port")}},
      {"env", dataPlaneEnv(istiod, plan.revisionLabel())},
      {"readinessProbe", readinessProbe()},
  };
}

}  // namespace

// Istio ambient runs one ztunnel per node for the whole cluster, whichever revision it
// follows, so the name carries no revision; the istio.io/rev label says which control
// plane it talks to. Replacing another revision's ztunnel is the caller's decision.
std::vector<model::Object> ztunnelObjects(const InstallPlan& plan, std::string_view weftVersion) {
  const json::object& k8s = objectIn(plan.mergedSpec, {"components", "ztunnel", "k8s"});
  const json::object selector{{"app", "ztunnel"}};
  const json::object labels = withLabels(installLabels("Ztunnel", plan.revision), selector);

  std::vector<model::Object> objects;
  objects.push_back(makeServiceAccount("ztunnel", kIstioNamespace, labels));

  json::object podLabels = withLabels(selector, {{kRevisionLabel, plan.revisionLabel()},
                                                 {"sidecar.istio.io/inject", "false"},
                                                 {"istio.io/dataplane-mode", "none"}});
  // Weft's ztunnel enters pods' network namespaces from the node's, hence hostNetwork; with
  // it, ClusterFirstWithHostNet keeps Service names (istiod) resolvable. It must run on
  // every node whatever the taints, as Istio's does.
  json::object pod{
      {"serviceAccountName", "ztunnel"},
      {"hostNetwork", true},
      {"dnsPolicy", "ClusterFirstWithHostNet"},
      {"priorityClassName", "system-node-critical"},
      {"tolerations", json::array{json::object{{"operator", "Exists"}}}},
      {"terminationGracePeriodSeconds", 30},
      {"containers", json::array{ztunnelContainer(plan, weftVersion)}},
  };
  auto daemonSet = makeObject(
      "apps/v1", "DaemonSet", "ztunnel", kIstioNamespace, labels,
      json::object{{"spec", json::object{
                                {"selector", json::object{{"matchLabels", selector}}},
                                {"updateStrategy",
                                 json::object{{"type", "RollingUpdate"},
                                              {"rollingUpdate", json::object{{"maxSurge", 1}, {"maxUnavailable", 0}}}}},
                                {"template", json::object{{"metadata", json::object{{"labels", std::move(podLabels)}}},
                                                          {"spec", std::move(pod)}}},
                            }}});
  applyWorkloadSettings(k8s, daemonSet.mutableValue().as_object());
  objects.push_back(std::move(daemonSet));
  return objects;
}

}  // namespace weft::install
