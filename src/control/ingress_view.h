#pragma once
// Kubernetes Ingresses, served as istiod serves them (Istio's "Kubernetes Ingress" task):
// each Ingress of Istio's class becomes a Gateway for the default ingress gateway's pods
// (istio=ingressgateway) with an HTTP server on port 80 for every host and, for each
// `tls` entry, an HTTPS server on 443 for its hosts with the Secret as credentialName
// (read from the gateway's namespace, as Istio reads it); and one VirtualService per host
// bound to it, its routes from the Ingresses' paths: Exact as an exact match, Prefix by
// path elements ("/foo" matches /foo and /foo/bar, not /foobar), ImplementationSpecific as
// Istio reads it ("", "*", "/*", ".*" every path; a trailing ".*" or "/*" a prefix of the
// rest; else exact); exact paths first, then longer prefixes, then every-path ones.
// Several Ingresses naming one host share its VirtualService (in creation order).
// `defaultBackend` is not served, as in Istio (a note says so).
//
// Which Ingresses: the annotation kubernetes.io/ingress.class: istio (present with another
// value, or empty: not Istio's); else `ingressClassName`, or the IngressClass marked
// default when there is none, naming an IngressClass whose controller is
// istio.io/ingress-controller; else (no class at all) served too (meshConfig
// ingressControllerMode DEFAULT, Istio's default). The mesh
// fields ingressControllerMode, ingressClass, ingressSelector and ingressService are not
// read: their defaults hold.
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

IngressAsIstio ingressAsIstio(const ObjectsByKind& objects, std::vector<std::string>& notes);

// Whether Istio serves `ingress` (the class rules above).
bool servedIngress(const ObjectsByKind& objects, const model::Object& ingress);

}  // namespace weft::control
