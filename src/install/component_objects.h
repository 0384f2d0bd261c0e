#pragma once
// The Kubernetes objects each component of a plan renders to, in apply order (ConfigMaps
// and ServiceAccounts before the workloads that use them). One file per component.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string_view>
#include <vector>

#include "install/install_plan.h"
#include "model/object.h"

namespace weft::install {

// "Istio core": the cluster-wide pieces. Weft serves Istio's CRDs itself and has no
// validating webhook, so what remains of Istio's base chart is its reader ServiceAccount.
std::vector<model::Object> baseObjects(const InstallPlan& plan);

// "Istiod": weftd as istiod[-<revision>], its Service and the `istio[-<revision>]`
// ConfigMap holding the mesh config.
std::vector<model::Object> controlPlaneObjects(const InstallPlan& plan, std::string_view weftVersion);

// "Ztunnel": the node agent, one per node.
std::vector<model::Object> ztunnelObjects(const InstallPlan& plan, std::string_view weftVersion);

// One ingress or egress gateway: weft-proxy in its gateway role behind a Service.
// The weft-proxy container of a gateway Deployment, shared by the IstioOperator gateways and
// the Gateway API's automated deployments: `role` is weft-proxy's argument ("gateway",
// "waypoint"), `servicePorts` the ports of the Service in front of it (the container
// declares their targets, then 15020 and 15021), `revision` "" for the default revision.
boost::json::object proxyContainer(std::string_view revision, std::string_view workloadName, std::string_view role,
                                   const boost::json::array& servicePorts, std::string_view weftVersion);

std::vector<model::Object> gatewayObjects(const InstallPlan& plan, const GatewayPlan& gateway,
                                          std::string_view weftVersion);

}  // namespace weft::install
