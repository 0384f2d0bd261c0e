#pragma once
// The Gateway API's automated deployment: what Istio's gateway controller renders for a
// `Gateway` of class `istio` (an ingress gateway) or `istio-waypoint` (a waypoint), so
// that a Gateway alone gets a running proxy (pilot/pkg/config/kube/gateway/
// deploymentcontroller.go and its templates). Pure, like the install's other renderers:
// weftd's gateway deployer (src/control/gateway_deployer.cc) writes what this returns.
//
//   class istio:          Deployment, Service (LoadBalancer) and ServiceAccount "<gateway>-istio",
//                         weft-proxy in its "gateway" role;
//   class istio-waypoint: the same named "<gateway>", Service ClusterIP, role "waypoint".
//
// The pods carry gateway.networking.k8s.io/gateway-name=<gateway>, which the proxy view's
// listeners select, and gateway.weft.dev/namespace=<namespace>: weft-proxy matches
// listeners by pod labels only, and without it a Gateway "gw" in one namespace would also
// select the pods of a Gateway "gw" in another.

#include <boost/json/array.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/object.h"

namespace weft::install {

inline constexpr std::string_view kIngressGatewayClass = "istio";
inline constexpr std::string_view kWaypointGatewayClass = "istio-waypoint";
inline constexpr std::string_view kGatewayNameLabel = "gateway.networking.k8s.io/gateway-name";
inline constexpr std::string_view kGatewayNamespaceLabel = "gateway.weft.dev/namespace";
// On every object rendered here: its value names the controller that owns it (Istio's).
inline constexpr std::string_view kManagedGatewayLabel = "gateway.istio.io/managed";
inline constexpr std::string_view kWaypointForLabel = "istio.io/waypoint-for";

struct ManagedGateway {
  std::string name;
  std::string ns;
  std::string className;         // kIngressGatewayClass or kWaypointGatewayClass
  std::string revision;          // the control plane that serves it; "" for the default revision
  boost::json::array listeners;  // spec.listeners as written (already schema-checked)
};

// Whether this renderer deploys Gateways of `className`.
bool isManagedGatewayClass(std::string_view className);

// "gateway.istio.io/managed"'s value for the class: istio.io-gateway-controller or
// istio.io-mesh-controller.
std::string managedByValue(std::string_view className);

// "<gateway>-istio" for class istio, "<gateway>" for waypoints: the Deployment, Service and
// ServiceAccount share it.
std::string managedGatewayResourceName(const ManagedGateway& gateway);

// The labels weft-proxy's listeners select the gateway's pods by.
boost::json::object managedGatewaySelector(std::string_view gatewayName, std::string_view ns);

// ServiceAccount, Service, Deployment (apply order).
std::vector<model::Object> managedGatewayObjects(const ManagedGateway& gateway, std::string_view weftVersion);

}  // namespace weft::install
