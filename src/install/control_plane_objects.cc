#include <fmt/format.h>

#include <boost/json.hpp>

#include "install/component_objects.h"
#include "install/install_names.h"
#include "install/k8s_objects.h"
#include "install/kubernetes_settings.h"
#include "install/spec_access.h"
#include "model/yaml_writer.h"

namespace weft::install {
namespace {

namespace json = boost::json;

// Istio's istiod chart: `mesh` holds the MeshConfig as YAML, `meshNetworks` the
// multi-network map (one network here).
model::Object meshConfigMap(const InstallPlan& plan) {
  json::object data{{"mesh", model::toYaml(plan.meshConfig)}, {"meshNetworks", "networks: {}"}};
  return makeObject("v1", "ConfigMap", meshConfigMapName(plan.revision), kIstioNamespace,
                    installLabels("Pilot", plan.revision), json::object{{"data", std::move(data)}});
}

json::object discoveryContainer(const InstallPlan& plan, std::string_view weftVersion) {
  const std::string revision = plan.revisionLabel();
  return json::object{
      {"name", "discovery"},
      {"image", fmt::format("docker.io/weft/weftd:{}", weftVersion)},
      {"args", json::array{"--revision", revision}},
      {"ports", json::array{containerPort(15012, "grpc-xds"), containerPort(15014, "http-monitoring"),
                            containerPort(15021, "status-port")}},
      {"env", json::array{envValue("REVISION", revision), envField("POD_NAME", "metadata.name"),
                          envField("POD_NAMESPACE", "metadata.namespace")}},
      {"readinessProbe", readinessProbe()},
  };
}

}  // namespace

std::vector<model::Object> controlPlaneObjects(const InstallPlan& plan, std::string_view weftVersion) {
  const std::string name = istiodName(plan.revision);
  const json::object& k8s = objectIn(plan.mergedSpec, {"components", "pilot", "k8s"});
  // Several revisions' istiods run side by side, so each selects its own pods by revision.
  const json::object selector{{"app", "istiod"}, {kRevisionLabel, plan.revisionLabel()}};
  const json::object labels =
      withLabels(installLabels("Pilot", plan.revision), {{"app", "istiod"}, {"istio", "pilot"}});

  std::vector<model::Object> objects;
  objects.push_back(meshConfigMap(plan));
  objects.push_back(makeServiceAccount(name, kIstioNamespace, labels));

  auto service =
      makeObject("v1", "Service", name, kIstioNamespace, labels,
                 json::object{{"spec", json::object{
                                           {"type", "ClusterIP"},
                                           {"selector", selector},
                                           {"ports", json::array{servicePort("grpc-xds", 15012, 15012),
                                                                 servicePort("http-monitoring", 15014, 15014)}},
                                       }}});
  applyServiceSettings(k8s, service.mutableValue().as_object());
  objects.push_back(std::move(service));

  // The control plane's own pods are never captured by a data plane.
  json::object podLabels = withLabels(
      selector, {{"istio", "pilot"}, {"sidecar.istio.io/inject", "false"}, {"istio.io/dataplane-mode", "none"}});
  json::object pod{{"serviceAccountName", name}, {"containers", json::array{discoveryContainer(plan, weftVersion)}}};
  auto deployment =
      makeObject("apps/v1", "Deployment", weftdDeploymentName(plan.revision), kIstioNamespace, labels,
                 json::object{{"spec", json::object{
                                           {"replicas", 1},
                                           {"selector", json::object{{"matchLabels", selector}}},
                                           {"template", json::object{{"metadata", json::object{{"labels", podLabels}}},
                                                                     {"spec", std::move(pod)}}},
                                       }}});
  applyWorkloadSettings(k8s, deployment.mutableValue().as_object());
  objects.push_back(std::move(deployment));
  return objects;
}

}  // namespace weft::install
