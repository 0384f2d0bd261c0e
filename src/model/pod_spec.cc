#include "model/pod_spec.h"

#include <boost/json.hpp>

#include <set>

namespace weft::model {
namespace {

// Kept as given: Weft does not interpret these (yet), and their schemas are large.
SchemaPtr opaque() { return object().preserveUnknownFields(); }

// Resource quantities: "500m", "1Gi", or a plain number (cpu: 0.5), as Kubernetes takes them.
SchemaPtr quantityMap() {
  static const SchemaPtr quantities = [] {
    auto s = std::make_shared<Schema>();
    s->type = Schema::Type::kAny;
    s->checks.push_back([](const boost::json::value& v) -> std::optional<std::string> {
      if (v.is_string() || v.is_number()) return std::nullopt;
      return "must be a quantity (a number or a string such as \"500m\" or \"1Gi\")";
    });
    return mapOf(SchemaPtr(s));
  }();
  return quantities;
}

SchemaPtr containerSchema() {
  static const SchemaPtr schema =
      object()
          .required("name", dns1123Label())
          .field("image", str())
          .field("imagePullPolicy", enumOf({"Always", "IfNotPresent", "Never"}))
          .field("command", listOf(str()))
          .field("args", listOf(str()))
          .field("workingDir", str())
          .field("ports", listOf(object()
                                     .field("name", str())
                                     .required("containerPort", portNumber())
                                     .field("protocol", enumOf({"TCP", "UDP", "SCTP"}))
                                     .field("hostPort", integer(0, 65535))
                                     .field("hostIP", str())))
          .field("env", listOf(object()
                                   .required("name", nonEmptyStr())
                                   .field("value", str())
                                   .field("valueFrom", opaque())
                                   .oneOf({"value", "valueFrom"})))
          .field("envFrom", listOf(opaque()))
          .field("resources", object()
                                  .field("limits", quantityMap())
                                  .field("requests", quantityMap())
                                  .field("claims", listOf(opaque())))
          .field("resizePolicy", listOf(opaque()))
          .field("restartPolicy", enumOf({"Always"}))
          .field("volumeMounts", listOf(opaque()))
          .field("volumeDevices", listOf(opaque()))
          .field("livenessProbe", opaque())
          .field("readinessProbe", opaque())
          .field("startupProbe", opaque())
          .field("lifecycle", opaque())
          .field("securityContext", opaque())
          .field("terminationMessagePath", str())
          .field("terminationMessagePolicy", enumOf({"File", "FallbackToLogsOnError"}))
          .field("stdin", boolean())
          .field("stdinOnce", boolean())
          .field("tty", boolean());
  return schema;
}

}  // namespace

// Container names are unique across containers and init containers.
void checkContainerNames(const Site& spec) {
  std::set<std::string> seen;
  for (const char* list : {"initContainers", "containers"}) {
    const auto* containers = spec.value.get_object().if_contains(list);
    if (containers == nullptr || !containers->is_array()) continue;
    for (size_t i = 0; i < containers->get_array().size(); ++i) {
      const auto& c = containers->get_array()[i];
      const auto* name = c.is_object() ? c.get_object().if_contains("name") : nullptr;
      if (name == nullptr || !name->is_string()) continue;
      if (!seen.insert(std::string(name->get_string())).second) {
        spec.reporter.error(fmt::format("{}.{}[{}].name", spec.path, list, i),
                            fmt::format("{}/{}/{}/name", spec.pointer, list, i),
                            fmt::format("duplicate container name \"{}\"", std::string_view(name->get_string())));
      }
    }
  }
}

SchemaPtr podSpecSchema() {
  static const SchemaPtr schema =
      object()
          .check(checkContainerNames)
          .required("containers", listOf(containerSchema(), 1))
          .field("initContainers", listOf(containerSchema()))
          .field("ephemeralContainers", listOf(opaque()))
          .field("serviceAccountName", dns1123Subdomain())
          .field("serviceAccount", dns1123Subdomain())
          .field("automountServiceAccountToken", boolean())
          .field("restartPolicy", enumOf({"Always", "OnFailure", "Never"}))
          .field("terminationGracePeriodSeconds", integer(0, INT64_MAX))
          .field("activeDeadlineSeconds", integer(1, INT64_MAX))
          .field("nodeSelector", stringMap())
          .field("nodeName", str())
          .field("hostNetwork", boolean())
          .field("hostPID", boolean())
          .field("hostIPC", boolean())
          .field("hostUsers", boolean())
          .field("shareProcessNamespace", boolean())
          .field("dnsPolicy", enumOf({"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"}))
          .field("dnsConfig", opaque())
          .field("hostname", dns1123Label())
          .field("subdomain", dns1123Label())
          .field("setHostnameAsFQDN", boolean())
          .field("hostAliases", listOf(object().required("ip", nonEmptyStr()).field("hostnames", listOf(str()))))
          .field("volumes", listOf(opaque()))
          .field("affinity", opaque())
          .field("tolerations", listOf(opaque()))
          .field("topologySpreadConstraints", listOf(opaque()))
          .field("securityContext", opaque())
          .field("imagePullSecrets", listOf(object().field("name", str())))
          .field("priorityClassName", str())
          .field("priority", int32())
          .field("preemptionPolicy", enumOf({"PreemptLowerPriority", "Never"}))
          .field("schedulerName", str())
          .field("runtimeClassName", str())
          .field("enableServiceLinks", boolean())
          .field("readinessGates", listOf(object().required("conditionType", nonEmptyStr())))
          .field("overhead", quantityMap())
          .field("os", object().required("name", enumOf({"linux", "windows"})))
          .field("schedulingGates", listOf(object().required("name", nonEmptyStr())))
          .field("resourceClaims", listOf(opaque()));
  return schema;
}

SchemaPtr podTemplateSchema() {
  static const SchemaPtr schema =
      object()
          .field("metadata", object()
                                 .field("name", dns1123Subdomain())
                                 .field("generateName", str())
                                 .field("namespace", dns1123Label())
                                 .field("labels", labelMap())
                                 .field("annotations", annotationMap())
                                 .field("creationTimestamp", anyValue()))
          .required("spec", podSpecSchema());
  return schema;
}

}  // namespace weft::model
