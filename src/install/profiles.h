#pragma once
// The install profiles `weft install` knows: the starting IstioOperator spec that the user's
// files and --set flags are laid over. As in istioctl, every profile is the `default`
// profile with the named profile's differences laid on top.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace weft::install {

// Sorted, for messages: ambient, default, demo, empty, minimal.
const std::vector<std::string>& knownProfiles();

// Refuses a profile Weft does not know (Istio's remote, preview, openshift... included),
// naming the known ones.
Status checkProfile(std::string_view profile);

// The full spec of `profile` (default + its differences). An unknown profile is an error
// listing the known ones.
Result<boost::json::object> profileSpec(std::string_view profile);

}  // namespace weft::install
