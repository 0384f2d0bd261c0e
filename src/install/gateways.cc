#include "install/gateways.h"

#include <boost/json.hpp>
#include <set>
#include <string>
#include <utility>

#include "base/k8s_names.h"
#include "install/install_names.h"
#include "install/spec_access.h"

namespace weft::install {
namespace {

namespace json = boost::json;

json::object port(std::string_view name, int number, int target) {
  return json::object{{"name", name}, {"port", number}, {"targetPort", target}, {"protocol", "TCP"}};
}

// The defaults of Istio's gateway charts (manifests/charts/gateways/istio-{ingress,egress}
// values): a gateway's pods carry app and istio labels whatever it is called, which is why
// an Istio Gateway selecting `istio: ingressgateway` finds every ingress gateway that does
// not override the label.
struct GatewayDefaults {
  std::string_view list;  // the field under spec.components
  bool ingress;
  std::string_view app;
  std::string_view istio;
  std::string_view serviceType;
};

constexpr GatewayDefaults kIngress{"ingressGateways", true, "istio-ingressgateway", "ingressgateway", "LoadBalancer"};
constexpr GatewayDefaults kEgress{"egressGateways", false, "istio-egressgateway", "egressgateway", "ClusterIP"};

json::array defaultPorts(bool ingress) {
  json::array ports;
  if (ingress) ports.push_back(port("status-port", 15021, 15021));  // first, for cloud load balancers' health checks
  ports.push_back(port("http2", 80, 8080));
  ports.push_back(port("https", 443, 8443));
  return ports;
}

Result<GatewayPlan> planGateway(const json::object& component, const GatewayDefaults& defaults,
                                const std::string& where) {
  GatewayPlan gateway;
  gateway.ingress = defaults.ingress;
  gateway.name = stringIn(component, {"name"});
  if (gateway.name.empty()) return makeError("{}: a gateway needs a name", where);
  if (auto why = checkDns1123Label(gateway.name)) {
    return makeError("{}.name: {} (the name becomes the gateway's Deployment and Service)", where, *why);
  }
  gateway.ns = stringIn(component, {"namespace"});
  if (gateway.ns.empty()) gateway.ns = std::string(kIstioNamespace);
  if (auto why = checkDns1123Label(gateway.ns)) return makeError("{}.namespace: {}", where, *why);

  gateway.labels = json::object{{"app", defaults.app}, {"istio", defaults.istio}};
  for (const auto& entry : objectIn(component, {"label"})) gateway.labels[entry.key()] = entry.value();

  gateway.k8s = objectIn(component, {"k8s"});
  const auto& ports = specAt(gateway.k8s, {"service", "ports"});
  gateway.ports = ports.is_array() && !ports.get_array().empty() ? ports.get_array() : defaultPorts(defaults.ingress);
  const auto& type = specAt(gateway.k8s, {"service", "type"});
  gateway.serviceType = type.is_string() ? std::string(type.get_string()) : std::string(defaults.serviceType);
  return gateway;
}

}  // namespace

Result<std::vector<GatewayPlan>> planGateways(const json::object& mergedSpec) {
  std::vector<GatewayPlan> gateways;
  std::set<std::pair<std::string, std::string>> seen;  // (namespace, name)
  for (const GatewayDefaults* defaults : {&kIngress, &kEgress}) {
    const auto& list = specAt(mergedSpec, {"components", defaults->list});
    if (!list.is_array()) continue;
    for (size_t i = 0; i < list.get_array().size(); ++i) {
      std::string where = fmt::format("spec.components.{}[{}]", defaults->list, i);
      const auto& component = list.get_array()[i];
      if (!component.is_object()) return makeError("{}: must be an object", where);
      auto gateway = planGateway(component.get_object(), *defaults, where);
      if (!gateway) return gateway.error();
      // Istio's rule: a gateway listed without `enabled` is enabled.
      if (specAt(component.get_object(), {"enabled"}) == json::value(false)) continue;
      if (!seen.insert({gateway->ns, gateway->name}).second) {
        return makeError("{}: another gateway is already named \"{}\" in namespace \"{}\"", where, gateway->name,
                         gateway->ns);
      }
      gateways.push_back(std::move(*gateway));
    }
  }
  return gateways;
}

}  // namespace weft::install
