#pragma once
// The enabled gateways of a merged spec (components.ingressGateways and egressGateways),
// with Istio's defaults for what a gateway leaves out.

#include <boost/json/object.hpp>
#include <vector>

#include "base/result.h"
#include "install/install_plan.h"

namespace weft::install {

// Every gateway needs a name that can name a Service (a DNS label), a namespace that is a
// DNS label (default istio-system), and no two enabled gateways may share a name and
// namespace. Disabled gateways (enabled: false) are checked but not planned.
Result<std::vector<GatewayPlan>> planGateways(const boost::json::object& mergedSpec);

}  // namespace weft::install
