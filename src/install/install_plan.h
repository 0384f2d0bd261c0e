#pragma once
// `weft install`'s plan: IstioOperator resources plus istioctl's install flags in, the
// Kubernetes objects that make up the control plane, ztunnel and gateways out. Pure: the
// caller reads the files (through the decoder) and applies the objects; nothing here
// touches the store or the disk.
//
// Inputs are merged as istioctl merges them (operator/pkg/render/manifest.go MergeInputs):
// the profile named by the merged input, then each file in order, then each --set flag.
// What Weft renders differs from Istio's charts where Weft's binaries differ (weftd for
// pilot-discovery, Weft's ztunnel and proxy), but names, labels, Service ports and the
// `istio` ConfigMap follow Istio so that istioctl habits and selectors keep working.
//
// Read from the spec: profile, revision, meshConfig, components.{base,pilot,ztunnel,
// ingressGateways,egressGateways} (enabled, namespace, name, label, k8s). Recorded but not
// rendered: hub and tag (Weft's images are versioned with Weft), values (Helm values of
// Istio's charts), components.cni (Weft's ztunnel redirects traffic itself).

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/object.h"

namespace weft::install {

struct InstallOptions {
  std::string revision = "";               // --revision; "" when not given
  std::vector<std::string> setFlags = {};  // --set, in order
  std::string weftVersion = "0.1.0";       // the tag of Weft's images
};

struct GatewayPlan {
  std::string name;
  std::string ns;
  bool ingress = true;         // from components.ingressGateways (else egressGateways)
  boost::json::object labels;  // Istio's defaults (app, istio) overlaid by the component's `label`
  std::string serviceType;     // LoadBalancer for ingress, ClusterIP for egress, or k8s.service.type
  boost::json::array ports;    // the Service's ports: Istio's defaults or k8s.service.ports
  boost::json::object k8s;     // the component's k8s settings, as given
};

struct InstallPlan {
  std::string revision;  // "" means the default revision
  std::string profile;
  boost::json::object
      mergedSpec;  // profile defaults + each file in order + --set (spec.profile and spec.revision resolved)
  boost::json::object meshConfig;  // the effective MeshConfig, Istio's defaults filled in
  bool base = false;               // components.base: the cluster-wide pieces ("Istio core")
  bool controlPlane = false;       // components.pilot: weftd as istiod[-rev]
  bool ztunnel = false;            // components.ztunnel
  std::vector<GatewayPlan> gateways;
  std::vector<std::string>
      namespaces;  // where the objects go, for the caller to create first (never owned by the install)
  std::vector<model::Object> objects;  // in apply order; each passed the kind's schema

  // The components installed, for progress lines as istioctl prints them ("Istio core",
  // "Istiod", "Ingress gateways", "Egress gateways", "Ztunnel").
  std::vector<std::string> componentNames() const;
  // "default" or the revision, as the istio.io/rev label spells it.
  std::string revisionLabel() const;
};

// Errors name the file and field at fault (decoded objects carry their source), the
// --set flag, or the rule broken (unknown profile, revision conflict).
Result<InstallPlan> planInstall(const std::vector<model::Object>& operators, const InstallOptions& options);

// The IstioOperator istioctl records as installed-state[-<revision>] in istio-system: the
// merged spec, so `weft install` can be repeated, compared or undone later.
model::Object installedState(const InstallPlan& plan);

}  // namespace weft::install
