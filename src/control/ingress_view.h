#pragma once
// Kubernetes Ingresses, served as istiod serves them (Istio's "Kubernetes Ingress" task):
// each Ingress of Istio's class becomes a Gateway for the default ingress gateway's pods
// (istio=ingressgateway, or meshConfig ingressSelector) with an HTTP server on port 80 for every host and, for each
// `tls` entry, an HTTPS server on 443 for its hosts with the Secret as credentialName
// (read from the gateway's namespace, as Istio reads it); and one VirtualService per host
// bound to it, its routes from the Ingresses' paths: Exact as an exact match, Prefix by
// path elements ("/foo" matches /foo and /foo/bar, not /foobar), ImplementationSpecific as
// Istio reads it ("", "*", "/*", ".*" every path; a trailing ".*" or "/*" a prefix of the
// rest; else exact); exact paths first, then longer prefixes, then every-path ones.
// Several Ingresses naming one host share its VirtualService (in creation order).
// `defaultBackend` is not served, as in Istio (a note says so).
//
// Which Ingresses (meshConfig ingressControllerMode and ingressClass, as Istio reads them):
// none in mode OFF (istiod runs no Ingress controller then); else with the annotation
// kubernetes.io/ingress.class, those whose value is ingressClass ("istio"); else with
// ingressClassName naming an IngressClass, those whose controller is
// istio.io/ingress-controller; else (no class, or one naming no IngressClass) only in mode
// DEFAULT: STRICT, Istio's default, serves none of those. The generated Gateways select `istio: <ingressSelector>`, or
// when that is unset `istio: <ingressService>` unless that is the default
// istio-ingressgateway, else `istio: ingressgateway` (Istio's order); the status shows the
// address of the Service `ingressService` (istio-ingressgateway) in istio-system
// (gateway_deployer.cc). Empty fields mean Istio's defaults: an explicit "" is not told
// from an unset field.
//
// The proxy view compiles the objects made here with the store's own (proxy_view.cc).

#include <string>
#include <vector>

#include "control/registry.h"

namespace weft::control {

inline constexpr const char* kIngressKind = "Ingress.networking.k8s.io";
inline constexpr const char* kIngressClassKind = "IngressClass.networking.k8s.io";

struct IngressAsIstio {
  std::vector<model::Object> gateways;         // Gateway.networking.istio.io
  std::vector<model::Object> virtualServices;  // VirtualService.networking.istio.io
};

// The meshConfig fields above, Istio's defaults filled in.
struct IngressMeshSettings {
  enum class Mode { kOff, kDefault, kStrict, kUnspecified } mode = Mode::kStrict;  // kUnspecified serves none, as in Istio
  std::string ingressClass = "istio";
  std::string selector = "ingressgateway";
  std::string service = "istio-ingressgateway";
};
IngressMeshSettings ingressMeshSettings(const weft::v1::MeshConfig& mesh);

IngressAsIstio ingressAsIstio(const ObjectsByKind& objects, const IngressMeshSettings& mesh, std::vector<std::string>& notes);

// Whether Istio serves `ingress` (the class rules above).
bool servedIngress(const ObjectsByKind& objects, const model::Object& ingress, const IngressMeshSettings& mesh);

}  // namespace weft::control
