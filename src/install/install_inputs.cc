#include "install/install_inputs.h"

#include <boost/json.hpp>

#include "base/k8s_names.h"
#include "install/profiles.h"
#include "install/set_flag.h"
#include "install/spec_access.h"
#include "install/spec_checks.h"
#include "install/spec_overlay.h"

namespace weft::install {
namespace {

namespace json = boost::json;

// "file.yaml:7" when the object came from a file, else its kind and name.
std::string whereIs(const model::Object& o, std::string_view pointer = "") {
  std::string location = o.sourceLocation(pointer);
  return location.empty() ? o.friendlyName() : location;
}

bool isIstioOperator(const model::Object& o) {
  return o.info().group == "install.istio.io" && o.kind() == "IstioOperator";
}

// A revision becomes part of object names (istiod-<revision>, a Service, so a DNS label of
// at most 63 characters) and a label value.
Status checkRevision(std::string_view revision) {
  if (auto why = checkDns1123Label(revision)) return makeError("invalid revision: {}", *why);
  constexpr size_t kLongest = 63 - std::string_view("istiod-").size();
  if (revision.size() > kLongest) {
    return makeError("invalid revision: \"{}\" must be no more than {} characters (istiod-<revision> names a Service)",
                     revision, kLongest);
  }
  if (revision == "default") {
    return makeError(
        "invalid revision: \"default\" names the install without a revision; leave the revision out instead");
  }
  return {};
}

}  // namespace

Result<MergedInputs> mergeInputs(const std::vector<model::Object>& operators, const InstallOptions& options) {
  MergedInputs inputs;
  json::object files;
  std::string fileRevision, fileRevisionFrom;
  for (const auto& op : operators) {
    if (!isIstioOperator(op)) {
      std::string location = op.sourceLocation();
      return makeError("{}{} is not an IstioOperator: weft install reads IstioOperator resources only",
                       location.empty() ? "" : location + ": ", op.friendlyName());
    }
    const auto& spec = op.field("spec");
    if (spec.is_null()) continue;  // istioctl takes an IstioOperator without a spec as "all defaults"
    if (!spec.is_object()) return makeError("{}: spec must be an object", whereIs(op, "/spec"));
    std::string revision = stringIn(spec.get_object(), {"revision"});
    if (!revision.empty()) {
      if (!fileRevision.empty() && revision != fileRevision) {
        return makeError("{}: spec.revision \"{}\" conflicts with spec.revision \"{}\" in {}",
                         whereIs(op, "/spec/revision"), revision, fileRevision, fileRevisionFrom);
      }
      fileRevision = revision;
      fileRevisionFrom = whereIs(op, "/spec/revision");
    }
    overlaySpec(files, spec.get_object());
  }

  // The profile decides what the --set flags apply to, so it is read from them first (as
  // istioctl's GetValueForSetFlag does). An unknown profile gets the message listing the
  // profiles Weft knows, not the schema's list of Istio's.
  std::string fileProfile = stringIn(files, {"profile"});
  inputs.profile =
      lastSetFlagValue(options.setFlags, "profile").value_or(fileProfile.empty() ? "default" : fileProfile);
  auto spec = profileSpec(inputs.profile);
  if (!spec) return spec.error();
  inputs.spec = std::move(*spec);
  overlaySpec(inputs.spec, files);
  for (const auto& flag : options.setFlags) WEFT_TRY(applySetFlag(inputs.spec, flag));
  // Each file was checked when it was decoded; --set can put any value anywhere.
  WEFT_TRY(validateSpec(inputs.spec, options.setFlags.empty() ? "IstioOperator" : "--set"));

  std::string specRevision = stringIn(inputs.spec, {"revision"});
  if (!options.revision.empty() && !specRevision.empty() && options.revision != specRevision) {
    return makeError("--revision \"{}\" conflicts with spec.revision \"{}\" in {}", options.revision, specRevision,
                     specRevision == fileRevision ? fileRevisionFrom : "--set");
  }
  inputs.revision = options.revision.empty() ? specRevision : options.revision;
  if (!inputs.revision.empty()) WEFT_TRY(checkRevision(inputs.revision));
  return inputs;
}

}  // namespace weft::install
