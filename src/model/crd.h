#pragma once
// CustomResourceDefinition objects for the kinds Weft serves, built from the catalogue,
// so `weft get crd virtualservices.networking.istio.io -o jsonpath=...` answers as the
// cluster would.

#include <boost/json/value.hpp>

#include "model/kinds.h"

namespace weft::model {

boost::json::value crdObject(const KindInfo& kind);

}  // namespace weft::model
