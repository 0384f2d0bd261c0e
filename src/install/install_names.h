#pragma once
// The names an install gives its objects, derived from the revision the way Istio's charts
// derive them: the default revision keeps the bare names (istiod, istio), another revision
// suffixes them (istiod-prod, istio-prod) so two control planes can run side by side.

#include <string>
#include <string_view>

namespace weft::install {

// Weft's control plane always lives here (Istio's global.istioNamespace default).
inline constexpr std::string_view kIstioNamespace = "istio-system";

// Every object an install writes carries this, so an uninstall or a re-install can find
// what it owns without confusing it with objects a user applied.
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "weft-install";
inline constexpr std::string_view kRevisionLabel = "istio.io/rev";
inline constexpr std::string_view kComponentLabel = "operator.istio.io/component";

// "" (no revision) -> "default", as the istio.io/rev label spells the default revision.
inline std::string revisionLabelValue(std::string_view revision) {
  return revision.empty() ? std::string("default") : std::string(revision);
}

// "istiod" or "istiod-<revision>".
inline std::string withRevision(std::string_view base, std::string_view revision) {
  return revision.empty() ? std::string(base) : std::string(base) + "-" + std::string(revision);
}

inline std::string istiodName(std::string_view revision) { return withRevision("istiod", revision); }
// The control plane's Deployment (so its pods read weftd-<rev>-...): Weft's own binary
// behind Istio's Service and ServiceAccount names, which clients and policies use.
inline std::string weftdDeploymentName(std::string_view revision) { return withRevision("weftd", revision); }
inline std::string meshConfigMapName(std::string_view revision) { return withRevision("istio", revision); }
inline std::string installedStateName(std::string_view revision) { return withRevision("installed-state", revision); }

// Where data planes reach the control plane for both certificates and config (xDS over TLS).
inline std::string istiodAddress(std::string_view revision) {
  return istiodName(revision) + "." + std::string(kIstioNamespace) + ".svc:15012";
}

}  // namespace weft::install
