#include "install/k8s_objects.h"

#include "install/install_names.h"

namespace weft::install {

namespace json = boost::json;

json::object installLabels(std::string_view component, std::string_view revision) {
  return json::object{
      {kManagedByLabel, kManagedByValue},
      {kRevisionLabel, revisionLabelValue(revision)},
      {kComponentLabel, component},
  };
}

json::object withLabels(json::object labels, const json::object& more) {
  for (const auto& entry : more) labels[entry.key()] = entry.value();
  return labels;
}

model::Object makeObject(std::string_view apiVersion, std::string_view kind, std::string_view name, std::string_view ns,
                         json::object labels, json::object body) {
  json::object value{
      {"apiVersion", apiVersion},
      {"kind", kind},
      {"metadata", json::object{{"name", name}, {"namespace", ns}, {"labels", std::move(labels)}}},
  };
  for (auto& entry : body) value[entry.key()] = std::move(entry.value());
  // Only kinds in the catalogue are made here (ConfigMap, ServiceAccount, Service,
  // Deployment, DaemonSet, IstioOperator), so the lookup cannot fail.
  return model::Object(model::findKind(apiVersion, kind), std::move(value));
}

model::Object makeServiceAccount(std::string_view name, std::string_view ns, json::object labels) {
  return makeObject("v1", "ServiceAccount", name, ns, std::move(labels));
}

json::object envValue(std::string_view name, std::string_view value) {
  return json::object{{"name", name}, {"value", value}};
}

json::object envField(std::string_view name, std::string_view fieldPath) {
  return json::object{
      {"name", name},
      {"valueFrom", json::object{{"fieldRef", json::object{{"apiVersion", "v1"}, {"fieldPath", fieldPath}}}}},
  };
}

json::array dataPlaneEnv(const std::string& controlPlaneAddress, const std::string& revisionLabel) {
  return json::array{
      envField("NODE_NAME", "spec.nodeName"),
      envField("POD_NAME", "metadata.name"),
      envField("POD_NAMESPACE", "metadata.namespace"),
      envField("INSTANCE_IP", "status.podIP"),
      envField("SERVICE_ACCOUNT", "spec.serviceAccountName"),
      envValue("CA_ADDRESS", controlPlaneAddress),
      envValue("XDS_ADDRESS", controlPlaneAddress),
      envValue("REVISION", revisionLabel),
  };
}

json::object containerPort(int port, std::string_view name) {
  json::object out{{"containerPort", port}, {"protocol", "TCP"}};
  if (!name.empty()) out["name"] = name;
  return out;
}

json::object servicePort(std::string_view name, int port, int targetPort) {
  return json::object{{"name", name}, {"port", port}, {"targetPort", targetPort}, {"protocol", "TCP"}};
}

json::object readinessProbe() {
  return json::object{
      {"httpGet", json::object{{"path", "/healthz/ready"}, {"port", 15021}}},
      {"periodSeconds", 2},
      {"failureThreshold", 30},
  };
}

}  // namespace weft::install
