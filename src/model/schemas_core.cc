// Core v1 kinds: Namespace, ServiceAccount, Service, Pod, Secret, ConfigMap, Endpoints,
// and the PodSpec shared with apps/v1. Sub-objects Weft never interprets (probes,
// volumes, affinity, security contexts) are kept as given with their fields unchecked;
// everything Weft reads is checked strictly.
#include <boost/json.hpp>

#include <set>

#include "model/kinds.h"
#include "model/pod_spec.h"

namespace weft::model {
namespace {

namespace json = boost::json;

// Secret and ConfigMap keys: [-._a-zA-Z0-9]+, as the API server requires.
ValueCheck dataKey() {
  return [](const json::value& k) -> std::optional<std::string> {
    std::string_view key = k.get_string();
    bool ok = !key.empty() && key.size() <= 253;
    for (char c : key) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    if (!ok) return fmt::format("key \"{}\" must consist of alphanumeric characters, '-', '_' or '.'", key);
    return std::nullopt;
  };
}

SchemaPtr opaque() { return object().preserveUnknownFields(); }

// Base64 as the API server decodes Secret data: line breaks are ignored (Go's decoder
// skips \r and \n, so `base64` output wrapped at 76 columns is valid), padding only at
// the end.
SchemaPtr base64Map() {
  return mapOf(str({[](const json::value& v) -> std::optional<std::string> {
    std::string_view s = v.get_string();
    size_t significant = 0, padding = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\n' || c == '\r') continue;
      bool alphabet = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
      if (c == '=') {
        ++padding;
      } else if (!alphabet || padding > 0) {
        return fmt::format("illegal base64 data at input byte {}", i);
      }
      ++significant;
    }
    if (padding > 2 || significant % 4 != 0) return "illegal base64 data: length is not a multiple of 4";
    return std::nullopt;
  }}), dataKey());
}

SchemaPtr protocolEnum() { return enumOf({"TCP", "UDP", "SCTP"}); }

// A port number (1-65535) or the name of a container port.
SchemaPtr targetPort() {
  static const SchemaPtr schema = [] {
    auto s = std::make_shared<Schema>(*intOrString());
    s->checks.push_back([](const json::value& v) -> std::optional<std::string> {
      if (v.is_string()) return v.get_string().empty() ? std::optional<std::string>("must not be empty") : std::nullopt;
      int64_t n = v.is_int64() ? v.get_int64() : 0;
      if (n < 1 || n > 65535) return "must be between 1 and 65535";
      return std::nullopt;
    });
    return SchemaPtr(s);
  }();
  return schema;
}

SchemaPtr servicePort() {
  return object()
      .field("name", dns1123Label())
      .field("protocol", protocolEnum())
      .field("appProtocol", str())
      .required("port", portNumber())
      .field("targetPort", targetPort())
      .field("nodePort", integer(0, 65535));
}

// Several ports need names, and names and port/protocol pairs must be unique.
void checkServicePorts(const Site& spec) {
  const auto* ports = spec.value.is_object() ? spec.value.get_object().if_contains("ports") : nullptr;
  if (ports == nullptr || !ports->is_array()) return;
  const auto& list = ports->get_array();
  std::set<std::string> names, pairs;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object()) continue;
    const auto& port = list[i].get_object();
    Site item{list[i], fmt::format("{}.ports[{}]", spec.path, i), pointerChild(pointerChild(spec.pointer, "ports"), i), spec.reporter};
    const auto* name = port.if_contains("name");
    if (list.size() > 1 && (name == nullptr || name->is_null())) {
      item.fieldError("name", "required value is missing (a Service with several ports must name each)");
    } else if (name != nullptr && name->is_string() && !names.insert(std::string(name->get_string())).second) {
      item.fieldError("name", fmt::format("duplicate port name \"{}\"", std::string_view(name->get_string())));
    }
    const auto* number = port.if_contains("port");
    const auto* protocol = port.if_contains("protocol");
    std::string key = fmt::format("{}/{}", number ? json::serialize(*number) : "?",
                                  protocol && protocol->is_string() ? std::string_view(protocol->get_string()) : "TCP");
    if (number != nullptr && !pairs.insert(key).second) item.fieldError("port", fmt::format("duplicate port {}", key));
  }
}

SchemaPtr serviceSpec() {
  static const SchemaPtr schema =
      object()
          .field("type", enumOf({"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}))
          .field("ports", listOf(servicePort()))
          .field("selector", labelMap())
          .field("clusterIP", str())
          .field("clusterIPs", listOf(str()))
          .field("externalName", str())
          .field("externalIPs", listOf(str()))
          .field("sessionAffinity", enumOf({"None", "ClientIP"}))
          .field("sessionAffinityConfig", opaque())
          .field("externalTrafficPolicy", enumOf({"Cluster", "Local"}))
          .field("internalTrafficPolicy", enumOf({"Cluster", "Local"}))
          .field("ipFamilies", listOf(enumOf({"IPv4", "IPv6"})))
          .field("ipFamilyPolicy", enumOf({"SingleStack", "PreferDualStack", "RequireDualStack"}))
          .field("loadBalancerIP", str())
          .field("loadBalancerSourceRanges", listOf(str()))
          .field("loadBalancerClass", str())
          .field("allocateLoadBalancerNodePorts", boolean())
          .field("healthCheckNodePort", integer(0, 65535))
          .field("publishNotReadyAddresses", boolean())
          .field("trafficDistribution", str())
          .check(checkServicePorts);
  return schema;
}

SchemaPtr endpointAddress() {
  return object().required("ip", nonEmptyStr()).field("hostname", str()).field("nodeName", str()).field("targetRef", opaque());
}

}  // namespace

void addCoreKinds(std::vector<KindInfo>& kinds) {
  auto kind = [&](std::string name, std::string plural, std::vector<std::string> shortNames, bool namespaced, SchemaPtr body) {
    kinds.push_back(KindInfo{"", std::move(name), {"v1"}, "v1", std::move(plural), std::move(shortNames), namespaced, std::move(body)});
  };
  kind("Namespace", "namespaces", {"ns"}, false,
       object().field("spec", object().field("finalizers", listOf(str()))).field("status", preservedStatus()));
  kind("ServiceAccount", "serviceaccounts", {"sa"}, true,
       object()
           .field("secrets", listOf(opaque()))
           .field("imagePullSecrets", listOf(object().field("name", str())))
           .field("automountServiceAccountToken", boolean()));
  kind("Service", "services", {"svc"}, true, object().field("spec", serviceSpec()).field("status", preservedStatus()));
  kind("Pod", "pods", {"po"}, true, object().required("spec", podSpecSchema()).field("status", preservedStatus()));
  kind("Secret", "secrets", {}, true,
       object().field("data", base64Map()).field("stringData", mapOf(str(), dataKey())).field("type", str()).field("immutable", boolean()));
  kind("ConfigMap", "configmaps", {"cm"}, true,
       object().field("data", mapOf(str(), dataKey())).field("binaryData", base64Map()).field("immutable", boolean()));
  // Written by the local runtime (or read from Kubernetes): a node's pod slice and address.
  kind("Node", "nodes", {"no"}, false,
       object()
           .field("spec", object()
                              .field("podCIDR", str())
                              .field("podCIDRs", listOf(str()))
                              .field("providerID", str())
                              .field("unschedulable", boolean())
                              .field("taints", listOf(opaque())))
           .field("status", preservedStatus()));
  kind("Endpoints", "endpoints", {"ep"}, true,
       object().field("subsets",
                      listOf(object()
                                 .field("addresses", listOf(endpointAddress()))
                                 .field("notReadyAddresses", listOf(endpointAddress()))
                                 .field("ports", listOf(object()
                                                            .field("name", str())
                                                            .required("port", portNumber())
                                                            .field("protocol", protocolEnum())
                                                            .field("appProtocol", str()))))));
}

}  // namespace weft::model
