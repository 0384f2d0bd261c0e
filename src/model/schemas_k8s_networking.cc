// networking.k8s.io: Ingress and IngressClass, as the Kubernetes API server validates them
// (networking/v1). Istio serves Ingresses of its class (control/ingress_view.h).

#include <fmt/format.h>

#include <boost/json.hpp>

#include "model/kinds.h"
#include "model/schema_rules.h"

namespace weft::model {
namespace {

namespace json = boost::json;

// An Ingress rule's host: a DNS subdomain, or one with a leading "*." label; never an IP.
std::optional<std::string> checkIngressHost(std::string_view host) {
  if (isIpAddress(host)) return std::string("must be a DNS name, not an IP address");
  if (host == "*") return std::string("a wildcard must be followed by a domain (\"*.example.com\")");
  return checkWildcardDomain(host);
}

void checkPath(const Site& s) {
  std::string_view type = stringAt(s.value, "pathType");
  std::string_view path = stringAt(s.value, "path");
  if (type != "ImplementationSpecific" && !path.empty() && path.front() != '/') {
    s.fieldError("path", fmt::format("{:?} must be an absolute path (start with '/') for pathType {}", std::string(path), std::string(type)));
  }
  if ((type == "Exact" || type == "Prefix") && path.empty()) s.fieldError("path", fmt::format("is required for pathType {}", std::string(type)));
}

SchemaPtr ingressBackend() {
  static const SchemaPtr schema =
      object()
          .field("service", object()
                                .required("name", dns1123Label())
                                .field("port", object().field("name", dns1123Label()).field("number", portNumber()).oneOf({"name", "number"}, true)))
          .field("resource", object().field("apiGroup", str()).required("kind", nonEmptyStr()).required("name", nonEmptyStr()))
          .oneOf({"service", "resource"}, true);
  return schema;
}

SchemaPtr ingressSpec() {
  static const SchemaPtr schema =
      object()
          .field("ingressClassName", dns1123Subdomain())
          .field("defaultBackend", ingressBackend())
          .field("tls", listOf(object().field("hosts", listOf(strRule(checkIngressHost))).field("secretName", dns1123Subdomain())))
          .field("rules", listOf(object()
                                     .field("host", strRule(checkIngressHost))
                                     .field("http", object().required(
                                                        "paths", listOf(object()
                                                                            .field("path", str())
                                                                            .required("pathType", enumOf({"Exact", "Prefix", "ImplementationSpecific"}))
                                                                            .required("backend", ingressBackend())
                                                                            .check(checkPath),
                                                                        1)))))
          .check([](const Site& s) {
            if (!isSet(s.value, "defaultBackend") && !isSet(s.value, "rules")) s.error("either defaultBackend or rules must be specified");
          });
  return schema;
}

}  // namespace

void addK8sNetworkingKinds(std::vector<KindInfo>& kinds) {
  kinds.push_back(KindInfo{"networking.k8s.io", "Ingress", {"v1"}, "v1", "ingresses", {"ing"}, true,
                           object().field("spec", ingressSpec()).field("status", preservedStatus())});
  kinds.push_back(KindInfo{"networking.k8s.io", "IngressClass", {"v1"}, "v1", "ingressclasses", {}, false,
                           object().field("spec", object()
                                                      .field("controller", nonEmptyStr())
                                                      .field("parameters", object()
                                                                               .field("apiGroup", str())
                                                                               .required("kind", nonEmptyStr())
                                                                               .required("name", nonEmptyStr())
                                                                               .field("namespace", str())
                                                                               .field("scope", enumOf({"Cluster", "Namespace"}))))});
}

}  // namespace weft::model
