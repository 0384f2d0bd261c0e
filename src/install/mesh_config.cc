#include "install/mesh_config.h"

#include <boost/json.hpp>

#include "install/install_names.h"
#include "install/spec_overlay.h"

namespace weft::install {
namespace {

namespace json = boost::json;

json::array strings(std::initializer_list<std::string_view> items) {
  json::array out;
  for (auto item : items) out.emplace_back(item);
  return out;
}

json::object provider(std::string_view name, std::string_view type, json::object settings) {
  return json::object{{"name", name}, {type, std::move(settings)}};
}

// DefaultProxyConfig: what a proxy runs with unless the mesh or a pod says otherwise.
json::object defaultProxyConfig(std::string_view revision) {
  return json::object{
      {"configPath", "./etc/istio/proxy"},
      {"binaryPath", "/usr/local/bin/envoy"},
      {"serviceCluster", "istio-proxy"},
      {"drainDuration", "45s"},
      {"terminationDrainDuration", "5s"},
      {"proxyAdminPort", 15000},
      {"controlPlaneAuthPolicy", "MUTUAL_TLS"},
      {"discoveryAddress", istiodAddress(revision)},
      {"tracing", json::object{{"zipkin", json::object{{"address", "zipkin.istio-system:9411"}}}}},
      {"statNameLength", 189},
      {"statusPort", 15020},
  };
}

json::object defaultMeshConfig(std::string_view revision) {
  return json::object{
      {"enableTracing", true},
      {"accessLogFile", ""},
      {"accessLogEncoding", "TEXT"},
      {"accessLogFormat", ""},
      {"enableEnvoyAccessLogService", false},
      {"protocolDetectionTimeout", "0s"},
      {"ingressService", "istio-ingressgateway"},
      {"ingressControllerMode", "STRICT"},
      {"ingressClass", "istio"},
      {"trustDomain", "cluster.local"},
      {"trustDomainAliases", json::array()},
      {"enableAutoMtls", true},
      {"outboundTrafficPolicy", json::object{{"mode", "ALLOW_ANY"}}},
      {"inboundTrafficPolicy", json::object{{"mode", "PASSTHROUGH"}}},
      {"localityLbSetting", json::object{{"enabled", true}}},
      {"defaultConfig", defaultProxyConfig(revision)},
      {"rootNamespace", kIstioNamespace},
      {"proxyListenPort", 15001},
      {"proxyInboundListenPort", 15006},
      {"connectTimeout", "10s"},
      {"defaultServiceExportTo", strings({"*"})},
      {"defaultVirtualServiceExportTo", strings({"*"})},
      {"defaultDestinationRuleExportTo", strings({"*"})},
      {"dnsRefreshRate", "60s"},
      {"serviceSettings", json::array()},
      {"enablePrometheusMerge", true},
      {"defaultProviders", json::object()},
      {"extensionProviders",
       json::array{provider("prometheus", "prometheus", {}), provider("stackdriver", "stackdriver", {}),
                   provider("envoy", "envoyFileAccessLog", json::object{{"path", "/dev/stdout"}})}},
  };
}

}  // namespace

json::object effectiveMeshConfig(const json::object& specMeshConfig, std::string_view revision) {
  json::object mesh = defaultMeshConfig(revision);
  overlaySpec(mesh, specMeshConfig, "meshConfig");
  return mesh;
}

}  // namespace weft::install
