#pragma once
// An install's inputs merged into one spec, in istioctl's order: the profile, each
// IstioOperator file in order, then each --set flag. The profile is the one the last
// `--set profile=` names, else the files' spec.profile, else default.
//
// --set flags apply to the merged spec, profile included (as istioctl did until 1.23), so
// `--set components.ingressGateways[0].enabled=false` reaches the profile's
// istio-ingressgateway. istioctl 1.24 applies them to the files alone, where that element
// does not exist.

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "install/install_plan.h"
#include "model/object.h"

namespace weft::install {

struct MergedInputs {
  boost::json::object spec;  // profile, files, --set; checked against the schema
  std::string profile;       // a known profile
  std::string revision;      // --revision or spec.revision; "" for the default revision
};

// Refuses objects that are not IstioOperator, files that disagree on spec.revision, a
// --revision that disagrees with spec.revision, an unknown profile and a revision that
// cannot become part of object names.
Result<MergedInputs> mergeInputs(const std::vector<model::Object>& operators, const InstallOptions& options);

}  // namespace weft::install
