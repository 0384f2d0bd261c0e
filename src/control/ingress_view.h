#pragma once
// Kubernetes Ingresses, served as istiod serves them (Istio's "Kubernetes Ingress" task):
// each Ingress of Istio's class becomes a Gateway for the default ingress gateway's pods
// (istio=ingressgateway) with an HTTP server on port 80 for every host and, for each
// `tls` entry, an HTTPS server on 443 for its hosts with the Secret as credentialName
// (read from the gateway's namespace, as Istio reads it); and one VirtualService per host
// bound to it, its routes from the Ingresses' paths: Exact as an exact match, Prefix by
// path elements ("/foo" matches /foo and /foo/bar, not /foobar), ImplementationSpecific
// as a prefix (a regex when it ends in ".*"); exact paths first, then longer prefixes
// first. `defaultBackend` takes what no rule does. Several Ingresses naming one host share
// its VirtualService (in creation order).
//
// Which Ingresses: `ingressClassName` naming an IngressClass whose controller is
// istio.io/ingress-controller, else the annotation kubernetes.io/ingress.class: istio, else
// one with neither (meshConfig.ingressControllerMode DEFAULT, Istio's default). The mesh
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
