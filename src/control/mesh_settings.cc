#include "control/mesh_settings.h"

#include <boost/json.hpp>

#include "base/duration.h"
#include "model/document.h"
#include "model/json_access.h"
#include "tls/spiffe_id.h"

namespace weft::control {

std::string meshConfigMapName(const std::string& revision) {
  return revision.empty() || revision == "default" ? "istio" : "istio-" + revision;
}

Result<weft::v1::MeshConfig> parseMeshConfig(std::string_view yaml, const std::string& source, const std::string& revision) {
  weft::v1::MeshConfig mesh;
  mesh.set_trust_domain("cluster.local");
  mesh.set_outbound_traffic_policy("ALLOW_ANY");
  mesh.set_root_namespace("istio-system");
  mesh.set_revision(revision.empty() ? "default" : revision);
  auto documents = model::readYamlDocuments(yaml, source);
  if (!documents) return documents.error();
  if (documents->empty()) return mesh;
  const auto& v = (*documents)[0].value;
  if (!v.is_object()) return makeError("{}: mesh config is not a mapping", source);
  if (auto td = model::stringAt(v, {"trustDomain"}); !td.empty()) {
    if (auto status = tls::checkTrustDomain(td); !status) return status.error().wrap(source + ": trustDomain");
    mesh.set_trust_domain(td);
  }
  if (auto mode = model::stringAt(v, {"outboundTrafficPolicy", "mode"}); !mode.empty()) {
    if (mode != "ALLOW_ANY" && mode != "REGISTRY_ONLY") {
      return makeError("{}: outboundTrafficPolicy.mode: must be ALLOW_ANY or REGISTRY_ONLY, not {}", source, mode);
    }
    mesh.set_outbound_traffic_policy(mode);
  }
  mesh.set_access_log_file(model::stringAt(v, {"accessLogFile"}));
  if (auto encoding = model::stringAt(v, {"accessLogEncoding"}); !encoding.empty()) {
    if (encoding != "TEXT" && encoding != "JSON") return makeError("{}: accessLogEncoding: must be TEXT or JSON, not {}", source, encoding);
    mesh.set_access_log_encoding(encoding);
  }
  if (auto root = model::stringAt(v, {"rootNamespace"}); !root.empty()) mesh.set_root_namespace(root);
  if (auto refresh = model::stringAt(v, {"dnsRefreshRate"}); !refresh.empty()) {
    auto parsed = parseDuration(refresh);
    auto ms = parsed ? std::chrono::duration_cast<std::chrono::milliseconds>(*parsed).count() : 0;
    // Istio refuses a rate under 1 ms; a day is far beyond any useful one and keeps it in 32 bits.
    if (!parsed || ms < 1 || ms > 86'400'000) {
      return makeError("{}: dnsRefreshRate: must be a duration from 1ms to 24h, not {:?}", source, refresh);
    }
    mesh.set_dns_refresh_ms(static_cast<uint32_t>(ms));
  }
  if (auto mode = model::stringAt(v, {"ingressControllerMode"}); !mode.empty()) {
    if (mode != "OFF" && mode != "DEFAULT" && mode != "STRICT" && mode != "UNSPECIFIED") {
      return makeError("{}: ingressControllerMode: must be OFF, DEFAULT, STRICT or UNSPECIFIED, not {:?}", source, mode);
    }
    mesh.set_ingress_controller_mode(mode);
  }
  mesh.set_ingress_class(model::stringAt(v, {"ingressClass"}));
  mesh.set_ingress_selector(model::stringAt(v, {"ingressSelector"}));
  mesh.set_ingress_service(model::stringAt(v, {"ingressService"}));
  return mesh;
}

Result<weft::v1::MeshConfig> loadMeshConfig(const store::LocalStore& store, const std::string& revision) {
  std::string name = meshConfigMapName(revision);
  auto map = store.get({"ConfigMap", "istio-system", name});
  if (!map) return map.error();
  std::string yaml = *map ? model::stringAt((*map)->value(), {"data", "mesh"}) : std::string();
  return parseMeshConfig(yaml, "configmap istio-system/" + name, revision);
}

}  // namespace weft::control
