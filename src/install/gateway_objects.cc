#include <fmt/format.h>

#include <boost/json.hpp>
#include <set>

#include "install/component_objects.h"
#include "install/install_names.h"
#include "install/k8s_objects.h"
#include "install/kubernetes_settings.h"
#include "install/spec_access.h"

namespace weft::install {
namespace {

namespace json = boost::json;

// The ports the proxy listens on: each Service port's target (or the port itself), then the
// stats and readiness ports every Weft proxy serves.
json::array proxyPorts(const json::array& servicePorts) {
  json::array ports;
  std::set<int64_t> seen;
  auto add = [&](int64_t number, std::string_view name) {
    if (number > 0 && seen.insert(number).second) ports.push_back(containerPort(static_cast<int>(number), name));
  };
  for (const auto& port : servicePorts) {
    if (!port.is_object()) continue;
    const auto& target = specAt(port.get_object(), {"targetPort"});
    const auto& number = target.is_int64() ? target : specAt(port.get_object(), {"port"});
    if (number.is_int64()) add(number.get_int64(), "");
  }
  add(15020, "http-stats");
  add(15021, "status-port");
  return ports;
}

}  // namespace

json::object proxyContainer(std::string_view revision, std::string_view workloadName, std::string_view role,
                            const json::array& servicePorts, std::string_view weftVersion) {
  json::array env = dataPlaneEnv(istiodAddress(revision), revisionLabelValue(revision));
  env.push_back(envValue("ISTIO_META_WORKLOAD_NAME", workloadName));
  return json::object{
      {"name", "istio-proxy"},
      {"image", fmt::format("docker.io/weft/proxy:{}", weftVersion)},
      {"args", json::array{role}},
      {"ports", proxyPorts(servicePorts)},
      {"env", env},
      {"readinessProbe", readinessProbe()},
  };
}

std::vector<model::Object> gatewayObjects(const InstallPlan& plan, const GatewayPlan& gateway,
                                          std::string_view weftVersion) {
  const json::object labels =
      withLabels(gateway.labels, installLabels(gateway.ingress ? "IngressGateways" : "EgressGateways", plan.revision));
  // Istio's gateway charts name the account <gateway>-service-account; keeping the name keeps
  // the gateway's SPIFFE identity, which AuthorizationPolicies name.
  const std::string account = gateway.name + "-service-account";

  std::vector<model::Object> objects;
  objects.push_back(makeServiceAccount(account, gateway.ns, labels));

  auto service = makeObject("v1", "Service", gateway.name, gateway.ns, labels,
                            json::object{{"spec", json::object{
                                                      {"type", gateway.serviceType},
                                                      {"selector", gateway.labels},
                                                      {"ports", gateway.ports},
                                                  }}});
  applyServiceSettings(gateway.k8s, service.mutableValue().as_object());
  objects.push_back(std::move(service));

  // Gateways are not enrolled in the ambient data plane: they terminate traffic themselves.
  json::object podLabels = withLabels(gateway.labels, {{kRevisionLabel, plan.revisionLabel()},
                                                       {"service.istio.io/canonical-name", gateway.name},
                                                       {"sidecar.istio.io/inject", "false"},
                                                       {"istio.io/dataplane-mode", "none"}});
  json::object pod{{"serviceAccountName", account},
                   {"containers", json::array{proxyContainer(plan.revision, gateway.name, "gateway", gateway.ports, weftVersion)}}};
  auto deployment = makeObject(
      "apps/v1", "Deployment", gateway.name, gateway.ns, labels,
      json::object{{"spec", json::object{
                                {"replicas", 1},
                                {"selector", json::object{{"matchLabels", gateway.labels}}},
                                {"template", json::object{{"metadata", json::object{{"labels", std::move(podLabels)}}},
                                                          {"spec", std::move(pod)}}},
                            }}});
  applyWorkloadSettings(gateway.k8s, deployment.mutableValue().as_object());
  objects.push_back(std::move(deployment));
  return objects;
}

}  // namespace weft::install
