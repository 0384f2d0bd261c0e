#include "install/install_plan.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <boost/json.hpp>

#include "install/component_objects.h"
#include "install/gateways.h"
#include "install/install_inputs.h"
#include "install/install_names.h"
#include "install/k8s_objects.h"
#include "install/mesh_config.h"
#include "install/spec_access.h"
#include "install/spec_checks.h"
#include "model/decoder.h"

namespace weft::install {
namespace {

namespace json = boost::json;

// Istio's rule (operator/pkg/component): a component present in the spec is enabled unless
// it says `enabled: false`. The profiles set every component Weft renders, so the fallback
// for an absent one is never reached with a real profile.
bool componentEnabled(const json::object& spec, std::string_view component) {
  const auto& settings = specAt(spec, {"components", component});
  if (!settings.is_object()) return false;
  return specAt(settings.get_object(), {"enabled"}) != json::value(false);
}

// A rendered object passes the same checks as one read from a file, so a bad value in a
// component's k8s settings is reported here rather than when the caller applies it.
Status checkRendered(const model::Object& object) {
  model::Document document;
  document.value = object.value();
  document.file = object.friendlyName();
  auto decoded = model::decodeDocument(std::move(document), {});
  if (decoded.ok()) return {};
  return makeError("the rendered {} is invalid (check the component's k8s settings):\n{}", object.friendlyName(),
                   fmt::join(decoded.errors, "\n"));
}

Result<std::vector<model::Object>> renderObjects(const InstallPlan& plan, std::string_view weftVersion) {
  std::vector<model::Object> objects;
  auto add = [&](std::vector<model::Object> more) {
    for (auto& o : more) objects.push_back(std::move(o));
  };
  if (plan.base) add(baseObjects(plan));
  if (plan.controlPlane) add(controlPlaneObjects(plan, weftVersion));
  for (const auto& gateway : plan.gateways) {
    if (gateway.ingress) add(gatewayObjects(plan, gateway, weftVersion));
  }
  for (const auto& gateway : plan.gateways) {
    if (!gateway.ingress) add(gatewayObjects(plan, gateway, weftVersion));
  }
  if (plan.ztunnel) add(ztunnelObjects(plan, weftVersion));
  for (const auto& o : objects) WEFT_TRY(checkRendered(o));
  return objects;
}

std::vector<std::string> namespacesOf(const std::vector<model::Object>& objects) {
  std::vector<std::string> namespaces;
  for (const auto& o : objects) {
    if (std::find(namespaces.begin(), namespaces.end(), o.ns()) == namespaces.end()) namespaces.push_back(o.ns());
  }
  std::sort(namespaces.begin(), namespaces.end());
  return namespaces;
}

}  // namespace

std::vector<std::string> InstallPlan::componentNames() const {
  std::vector<std::string> names;
  auto hasGateway = [&](bool ingress) {
    return std::any_of(gateways.begin(), gateways.end(), [&](const GatewayPlan& g) { return g.ingress == ingress; });
  };
  if (base) names.emplace_back("Istio core");
  if (controlPlane) names.emplace_back("Istiod");
  if (hasGateway(true)) names.emplace_back("Ingress gateways");
  if (hasGateway(false)) names.emplace_back("Egress gateways");
  if (ztunnel) names.emplace_back("Ztunnel");
  return names;
}

std::string InstallPlan::revisionLabel() const { return revisionLabelValue(revision); }

Result<InstallPlan> planInstall(const std::vector<model::Object>& operators, const InstallOptions& options) {
  auto inputs = mergeInputs(operators, options);
  if (!inputs) return inputs.error();

  InstallPlan plan;
  plan.revision = inputs->revision;
  plan.profile = inputs->profile;
  plan.mergedSpec = std::move(inputs->spec);
  // Resolved values are written back so the recorded installed-state says what was done.
  plan.mergedSpec["profile"] = plan.profile;
  if (!plan.revision.empty()) plan.mergedSpec["revision"] = plan.revision;
  WEFT_TRY(checkSupported(plan.mergedSpec));

  plan.base = componentEnabled(plan.mergedSpec, "base");
  plan.controlPlane = componentEnabled(plan.mergedSpec, "pilot");
  plan.ztunnel = componentEnabled(plan.mergedSpec, "ztunnel");
  auto gateways = planGateways(plan.mergedSpec);
  if (!gateways) return gateways.error();
  plan.gateways = std::move(*gateways);
  plan.meshConfig = effectiveMeshConfig(objectIn(plan.mergedSpec, {"meshConfig"}), plan.revision);

  auto objects = renderObjects(plan, options.weftVersion);
  if (!objects) return objects.error();
  plan.objects = std::move(*objects);
  plan.namespaces = namespacesOf(plan.objects);
  return plan;
}

model::Object installedState(const InstallPlan& plan) {
  json::object labels{{kManagedByLabel, kManagedByValue}, {kRevisionLabel, plan.revisionLabel()}};
  return makeObject("install.istio.io/v1alpha1", "IstioOperator", installedStateName(plan.revision), kIstioNamespace,
                    std::move(labels), json::object{{"spec", plan.mergedSpec}});
}

}  // namespace weft::install
