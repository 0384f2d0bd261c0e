#pragma once
// Checks on an IstioOperator spec beyond what each file's decoding checked.

#include <boost/json/object.hpp>
#include <string_view>

#include "base/result.h"

namespace weft::install {

// The IstioOperator schema applied to a spec assembled from files and --set flags: the
// decoder checked each file, but --set can put any value anywhere. `source` starts each
// message ("--set"). An unknown component gets its own message listing the known ones.
Status validateSpec(const boost::json::object& spec, std::string_view source);

// What istioctl accepts but Weft cannot do, refused rather than ignored: a control plane
// outside istio-system, a remote control plane, and k8s.overlays (patches to rendered
// objects Weft's objects do not share the shape of).
Status checkSupported(const boost::json::object& mergedSpec);

}  // namespace weft::install
