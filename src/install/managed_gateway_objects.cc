#include "install/managed_gateway_objects.h"

#include <boost/json.hpp>
#include <set>

#include "base/ascii.h"
#include "install/component_objects.h"
#include "install/install_names.h"
#include "install/k8s_objects.h"
#include "install/spec_access.h"

namespace weft::install {
namespace {

namespace json = boost::json;

bool isWaypoint(const ManagedGateway& gateway) { return gateway.className == kWaypointGatewayClass; }

// Istio's rendering of listeners as Service ports: one per distinct port, named after its
// first listener, the proxy listening on the port itself (no translation, unlike the
// IstioOperator gateways' 80 -> 8080). Ingress gateways also expose the readiness port
// first, for cloud load balancers' health checks; waypoints are reached over HBONE only.
json::array servicePorts(const ManagedGateway& gateway) {
  json::array ports;
  if (!isWaypoint(gateway)) {
    auto status = servicePort("status-port", 15021, 15021);
    status["appProtocol"] = "tcp";
    ports.push_back(std::move(status));
  }
  std::set<int64_t> seen{15021};
  for (const auto& listener : gateway.listeners) {
    if (!listener.is_object()) continue;
    const auto& port = specAt(listener.get_object(), {"port"});
    const auto& name = specAt(listener.get_object(), {"name"});
    const auto& protocol = specAt(listener.get_object(), {"protocol"});
    if (!port.is_int64() || !seen.insert(port.get_int64()).second) continue;
    int number = static_cast<int>(port.get_int64());
    auto entry = servicePort(name.is_string() ? std::string_view(name.get_string()) : std::string_view("listener"), number, number);
    // HBONE is tunnelled TCP to the Service registry; the rest keep their protocol's name.
    std::string app = protocol.is_string() ? asciiLower(std::string(protocol.get_string())) : "tcp";
    entry["appProtocol"] = app == "hbone" ? "all" : app;
    ports.push_back(std::move(entry));
  }
  return ports;
}

}  // namespace

bool isManagedGatewayClass(std::string_view className) {
  return className == kIngressGatewayClass || className == kWaypointGatewayClass;
}

std::string managedByValue(std::string_view className) {
  return className == kWaypointGatewayClass ? "istio.io-mesh-controller" : "istio.io-gateway-controller";
}

std::string managedGatewayResourceName(const ManagedGateway& gateway) {
  return isWaypoint(gateway) ? gateway.name : gateway.name + "-istio";
}

json::object managedGatewaySelector(std::string_view gatewayName, std::string_view ns) {
  return json::object{{kGatewayNameLabel, gatewayName}, {kGatewayNamespaceLabel, ns}};
}

std::vector<model::Object> managedGatewayObjects(const ManagedGateway& gateway, std::string_view weftVersion) {
  const std::string name = managedGatewayResourceName(gateway);
  const json::object selector = managedGatewaySelector(gateway.name, gateway.ns);
  const json::object labels = withLabels(selector, {{kManagedGatewayLabel, managedByValue(gateway.className)},
                                                    {kRevisionLabel, revisionLabelValue(gateway.revision)}});
  const json::array ports = servicePorts(gateway);

  std::vector<model::Object> objects;
  objects.push_back(makeServiceAccount(name, gateway.ns, labels));
  objects.push_back(makeObject("v1", "Service", name, gateway.ns, labels,
                               json::object{{"spec", json::object{
                                                         {"type", isWaypoint(gateway) ? "ClusterIP" : "LoadBalancer"},
                                                         {"selector", selector},
                                                         {"ports", ports},
                                                     }}}));
  // Gateways and waypoints terminate traffic themselves: never captured by ztunnel.
  json::object podLabels = withLabels(labels, {{"service.istio.io/canonical-name", name},
                                               {"service.istio.io/canonical-revision", "latest"},
                                               {"sidecar.istio.io/inject", "false"},
                                               {"istio.io/dataplane-mode", "none"}});
  json::object pod{{"serviceAccountName", name},
                   {"containers", json::array{proxyContainer(gateway.revision, name, isWaypoint(gateway) ? "waypoint" : "gateway",
                                                             ports, weftVersion)}}};
  objects.push_back(makeObject("apps/v1", "Deployment", name, gateway.ns, labels,
                               json::object{{"spec", json::object{
                                                         {"replicas", 1},
                                                         {"selector", json::object{{"matchLabels", selector}}},
                                                         {"template", json::object{{"metadata", json::object{{"labels", std::move(podLabels)}}},
                                                                                   {"spec", std::move(pod)}}},
                                                     }}}));
  return objects;
}

}  // namespace weft::install
