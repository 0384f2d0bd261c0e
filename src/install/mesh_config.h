#pragma once
// The MeshConfig an install hands its control plane: Istio's defaults (istio/istio
// pkg/config/mesh DefaultMeshConfig) with the spec's meshConfig laid over them, in the
// shape of the `mesh` key of Istio's `istio` ConfigMap. Writing the defaults out, rather
// than leaving them implicit as Istio does, lets `weft get cm istio -o yaml` show what is
// in force.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace weft::install {

// `revision` picks the control plane proxies connect to (defaultConfig.discoveryAddress).
boost::json::object effectiveMeshConfig(const boost::json::object& specMeshConfig, std::string_view revision);

}  // namespace weft::install
