#pragma once
// Laying one IstioOperator spec over another, as istioctl layers the profile, each -f file
// in order, and --set: mappings merge key by key, the overlay wins on scalars and lists,
// and a null in the overlay removes the key (as a strategic merge patch reads null).
//
// Two lists are merged by element name instead of replaced, following the strategic-merge
// keys istioctl gave them (operator/pkg/util/merge_iop.go, istioctl <= 1.23):
//   components.ingressGateways, components.egressGateways  elements with the same name
//       merge field by field, so a file can enable the profile's istio-ingressgateway or
//       add a second gateway without repeating the first;
//   meshConfig.extensionProviders                          an element with the same name
//       replaces the earlier one (merging two providers' oneof fields would make nonsense).
// istioctl 1.24 dropped the strategic merge and replaces these lists too; the merge by
// name is kept because files written for either version then install the same gateways,
// except that 1.24 would drop a profile gateway a file does not repeat.

#include <boost/json/object.hpp>
#include <string_view>

namespace weft::install {

// `at` is where `base` sits in the spec ("" for the spec itself, "meshConfig" for a
// MeshConfig), so the by-name lists are recognised at any level.
void overlaySpec(boost::json::object& base, const boost::json::object& overlay, std::string_view at = "");

}  // namespace weft::install
