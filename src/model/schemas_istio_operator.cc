// install.istio.io/v1alpha1 IstioOperator: the install description istioctl reads.
//
// istioctl decodes it strictly (unknown fields are errors), and so do we, down to the
// component level and MeshConfig's top-level fields. Below that, the pieces that are
// Kubernetes API types (affinity, probes, Service specs) or Helm values are free-form:
// their schemas belong to other APIs and change with them.

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "base/duration.h"
#include "model/kinds.h"
#include "model/schema_rules.h"

namespace weft::model {
namespace {

namespace json = boost::json;

SchemaPtr freeForm() {
  static const SchemaPtr schema = object().preserveUnknownFields();
  return schema;
}

// Image tags are strings ("1.24.0", "latest") but YAML turns "1.24" or "2" into numbers,
// which istioctl accepts as well.
SchemaPtr imageTag() {
  static const SchemaPtr schema = withChecks(anyValue(), {[](const json::value& v) -> std::optional<std::string> {
                                               if (v.is_string() || v.is_number()) return std::nullopt;
                                               return fmt::format("must be a string or a number, not {}", describeJsonType(v));
                                             }});
  return schema;
}

// --- MeshConfig ------------------------------------------------------------------------------

// Every top-level MeshConfig field of Istio 1.31 (mesh/v1alpha1/config.proto), so a typo
// is caught as istioctl catches it. Nested messages that are large or shared with other
// APIs (ProxyConfig, extension providers, CA and TLS settings) are taken as given.
SchemaPtr meshConfig() {
  static const SchemaPtr retryPolicy = object()
                                           .field("attempts", integer(0, INT32_MAX))
                                           .field("perTryTimeout", duration())
                                           .field("retryOn", str())
                                           .field("retryRemoteLocalities", boolean())
                                           .field("retryIgnorePreviousHosts", boolean())
                                           .field("backoff", duration());
  static const SchemaPtr tlsConfig = object()
                                         .field("minProtocolVersion", enumOf({"TLS_AUTO", "TLSV1_2", "TLSV1_3"}))
                                         .field("ecdhCurves", listOf(str()))
                                         .field("cipherSuites", listOf(str()));
  static const SchemaPtr schema =
      object()
          .field("proxyListenPort", int32())
          .field("proxyInboundListenPort", int32())
          .field("proxyHttpPort", int32())
          .field("connectTimeout", duration())
          .field("hboneIdleTimeout", duration())
          .field("protocolDetectionTimeout", str({[](const json::value& v) -> std::optional<std::string> {
                   // "0s" turns detection off, so unlike other durations 0 is allowed.
                   auto parsed = parseDuration(std::string_view(v.get_string()));
                   if (!parsed) return parsed.error().message;
                   return std::nullopt;
                 }}))
          .field("tcpKeepalive", object().field("probes", uint32()).field("time", duration()).field("interval", duration()))
          .field("ingressClass", str())
          .field("ingressService", str())
          .field("ingressControllerMode", enumOf({"UNSPECIFIED", "OFF", "DEFAULT", "STRICT"}))
          .field("ingressSelector", str())
          .field("enableTracing", boolean())
          .field("accessLogFile", str())
          .field("accessLogFormat", str())
          .field("accessLogEncoding", enumOf({"TEXT", "JSON"}))
          .field("enableEnvoyAccessLogService", boolean())
          .field("disableEnvoyListenerLog", boolean())
          .field("defaultConfig", freeForm())  // ProxyConfig: large, versioned with the proxy
          .field("outboundTrafficPolicy", object()
                                              .field("mode", enumOf({"REGISTRY_ONLY", "ALLOW_ANY", "ALLOW_ANY_DYNAMIC_DNS"}))
                                              .field("tls", freeForm())
                                              .field("egressProxy", freeForm()))
          .field("inboundTrafficPolicy", object().field("mode", enumOf({"PASSTHROUGH", "LOCALHOST"})))
          .field("configSources", listOf(freeForm()))
          .field("enableAutoMtls", boolean())
          .field("trustDomain", str())
          .field("trustDomainAliases", listOf(str()))
          .field("caCertificates", listOf(freeForm()))
          .field("defaultServiceExportTo", listOf(str()))
          .field("defaultVirtualServiceExportTo", listOf(str()))
          .field("defaultDestinationRuleExportTo", listOf(str()))
          .field("rootNamespace", dns1123Label())
          .field("localityLbSetting", freeForm())
          .field("zoneAwareLbSetting", freeForm())
          .field("dnsRefreshRate", duration())
          .field("h2UpgradePolicy", enumOf({"DO_NOT_UPGRADE", "UPGRADE"}))
          .field("inboundClusterStatName", str())
          .field("outboundClusterStatName", str())
          .field("certificates", listOf(freeForm()))  // deprecated
          .field("serviceSettings", listOf(freeForm()))
          .field("serviceScopeConfigs", listOf(freeForm()))
          .field("enablePrometheusMerge", boolean())
          .field("verifyCertificateAtClient", boolean())  // deprecated
          .field("ca", freeForm())
          .field("extensionProviders", listOf(object().required("name", nonEmptyStr()).preserveUnknownFields()))
          .field("defaultProviders", object()
                                         .field("tracing", listOf(str()))
                                         .field("metrics", listOf(str()))
                                         .field("accessLogging", listOf(str())))
          .field("discoverySelectors", listOf(labelSelectorSchema()))
          .field("pathNormalization", object().field("normalization", enumOf({"DEFAULT", "NONE", "BASE", "MERGE_SLASHES",
                                                                               "DECODE_AND_MERGE_SLASHES"})))
          .field("defaultHttpRetryPolicy", retryPolicy)
          .field("meshMTLS", tlsConfig)
          .field("tlsDefaults", tlsConfig)
          .field("defaultTrafficPolicy", freeForm())
          .field("serviceEntryVisibility", freeForm());
  return schema;
}

// --- components --------------------------------------------------------------------------------

// Kubernetes settings of one component's Deployment, Service and friends. The fields are
// fixed (istioctl refuses others); their values are Kubernetes API types.
SchemaPtr kubernetesSettings() {
  static const SchemaPtr overlay = object()
                                       .field("apiVersion", str())
                                       .field("kind", str())
                                       .field("name", str())
                                       .field("patches", listOf(object().field("path", str()).field("value", anyValue())));
  static const SchemaPtr schema = object()
                                      .field("affinity", freeForm())
                                      .field("env", listOf(object().required("name", nonEmptyStr()).preserveUnknownFields()))
                                      .field("hpaSpec", freeForm())
                                      .field("imagePullPolicy", enumOf({"Always", "IfNotPresent", "Never"}))
                                      .field("nodeSelector", stringMap())
                                      .field("podDisruptionBudget", freeForm())
                                      .field("podAnnotations", stringMap())
                                      .field("priorityClassName", str())
                                      .field("readinessProbe", freeForm())
                                      .field("replicaCount", uint32())
                                      .field("resources", freeForm())
                                      .field("service", freeForm())
                                      .field("strategy", freeForm())
                                      .field("tolerations", listOf(freeForm()))
                                      .field("serviceAnnotations", stringMap())
                                      .field("securityContext", freeForm())
                                      .field("volumes", listOf(freeForm()))
                                      .field("volumeMounts", listOf(freeForm()))
                                      .field("overlays", listOf(overlay));
  return schema;
}

SchemaPtr component() {
  static const SchemaPtr schema = object()
                                      .field("enabled", boolean())
                                      .field("namespace", dns1123Label())
                                      .field("hub", str())
                                      .field("tag", imageTag())
                                      .field("k8s", kubernetesSettings());
  return schema;
}

SchemaPtr gatewayComponent() {
  static const SchemaPtr schema = object()
                                      .required("name", dns1123Subdomain())
                                      .field("enabled", boolean())
                                      .field("namespace", dns1123Label())
                                      .field("label", labelMap())
                                      .field("hub", str())
                                      .field("tag", imageTag())
                                      .field("k8s", kubernetesSettings());
  return schema;
}

SchemaPtr components() {
  static const SchemaPtr schema = object()
                                      .field("base", object().field("enabled", boolean()).field("k8s", kubernetesSettings()))
                                      .field("pilot", component())
                                      .field("cni", component())
                                      .field("ztunnel", component())
                                      .field("istiodRemote", component())
                                      .field("ingressGateways", listOf(gatewayComponent()))
                                      .field("egressGateways", listOf(gatewayComponent()));
  return schema;
}

SchemaPtr istioOperatorSpec() {
  static const SchemaPtr schema =
      object()
          // The profiles under manifests/profiles.
          .field("profile", enumOf({"default", "demo", "minimal", "remote", "empty", "preview", "ambient", "stable", "openshift",
                                    "openshift-ambient"}))
          .field("installPackagePath", str())
          .field("hub", str())
          .field("tag", imageTag())
          .field("namespace", dns1123Label())
          .field("revision", dns1123Label())  // becomes part of resource names (istiod-<revision>)
          .field("compatibilityVersion", str())
          .field("meshConfig", meshConfig())
          .field("components", components())
          .field("values", freeForm())             // Helm values
          .field("unvalidatedValues", freeForm());  // Helm values, deliberately unchecked
  return schema;
}

}  // namespace

void addIstioOperatorKinds(std::vector<KindInfo>& kinds) {
  kinds.push_back(KindInfo{
      .group = "install.istio.io",
      .kind = "IstioOperator",
      .versions = {"v1alpha1"},
      .storageVersion = "v1alpha1",
      .plural = "istiooperators",
      .shortNames = {"iop"},
      .namespaced = true,
      .body = object().field("spec", istioOperatorSpec()).field("status", preservedStatus()),
  });
}

}  // namespace weft::model
