#pragma once
// The MeshConfig a weftd revision serves, read as istiod reads it: from the `mesh` key of
// the ConfigMap istio-<revision> (or `istio` for the default revision) in istio-system,
// which `weft install` writes from the IstioOperator's meshConfig. Istio's defaults apply
// to what is not set.

#include "store/local_store.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

std::string meshConfigMapName(const std::string& revision);

// A missing ConfigMap gives the defaults; a malformed one is an error naming it.
Result<weft::v1::MeshConfig> loadMeshConfig(const store::LocalStore& store, const std::string& revision);
Result<weft::v1::MeshConfig> parseMeshConfig(std::string_view yaml, const std::string& source, const std::string& revision);

}  // namespace weft::control
