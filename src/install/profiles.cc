#include "install/profiles.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/json.hpp>

#include "install/spec_overlay.h"
#include "model/document.h"

namespace weft::install {
namespace {

namespace json = boost::json;

struct Profile {
  std::string_view name;
  std::string_view yaml;  // the spec's differences from `default`
};

// Istio's manifests/profiles, reduced to what Weft installs, with one change: Weft's data
// plane is always ambient (there are no sidecars to fall back on), so every profile but
// `empty` installs ztunnel. In Istio only the ambient profile does. Istio's ambient
// profile also enables the CNI node agent; Weft's ztunnel redirects pod traffic itself,
// so `cni` is recorded but installs nothing.
constexpr Profile kProfiles[] = {
    {"default", R"(
components:
  base:
    enabled: true
  pilot:
    enabled: true
  ingressGateways:
  - name: istio-ingressgateway
    enabled: true
  egressGateways:
  - name: istio-egressgateway
    enabled: false
  cni:
    enabled: false
  ztunnel:
    enabled: true
)"},
    {"minimal", R"(
components:
  ingressGateways:
  - name: istio-ingressgateway
    enabled: false
)"},
    {"demo", R"(
meshConfig:
  accessLogFile: /dev/stdout
components:
  ingressGateways:
  - name: istio-ingressgateway
    enabled: true
  egressGateways:
  - name: istio-egressgateway
    enabled: true
)"},
    {"ambient", R"(
components:
  cni:
    enabled: true
  ztunnel:
    enabled: true
  ingressGateways:
  - name: istio-ingressgateway
    enabled: false
)"},
    {"empty", R"(
components:
  base:
    enabled: false
  pilot:
    enabled: false
  ingressGateways:
  - name: istio-ingressgateway
    enabled: false
  ztunnel:
    enabled: false
)"},
};

const Profile* findProfile(std::string_view name) {
  for (const auto& profile : kProfiles) {
    if (profile.name == name) return &profile;
  }
  return nullptr;
}

// The profiles are our own constants, so a parse failure is a bug in this file; it is still
// reported as an error rather than asserted, like every other failure on this path.
Result<json::object> parse(const Profile& profile) {
  auto documents = model::readYamlDocuments(profile.yaml, fmt::format("profile {}", profile.name));
  if (!documents) return documents.error();
  if (documents->size() != 1 || !documents->front().value.is_object()) {
    return makeError("profile {}: expected one mapping", profile.name);
  }
  return std::move(documents->front().value.as_object());
}

}  // namespace

const std::vector<std::string>& knownProfiles() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& profile : kProfiles) out.emplace_back(profile.name);
    std::sort(out.begin(), out.end());
    return out;
  }();
  return names;
}

Status checkProfile(std::string_view name) {
  if (findProfile(name) == nullptr) {
    return makeError("unknown profile \"{}\": known profiles are {}", name, fmt::join(knownProfiles(), ", "));
  }
  return {};
}

Result<json::object> profileSpec(std::string_view name) {
  WEFT_TRY(checkProfile(name));
  const Profile* profile = findProfile(name);
  auto spec = parse(*findProfile("default"));
  if (!spec) return spec.error();
  if (name != "default") {
    auto differences = parse(*profile);
    if (!differences) return differences.error();
    overlaySpec(*spec, *differences);
  }
  return spec;
}

}  // namespace weft::install
