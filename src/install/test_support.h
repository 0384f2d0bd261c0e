#pragma once
// Building install inputs for tests the way the CLI will: YAML through the real decoder.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "install/install_plan.h"
#include "model/decoder.h"

namespace weft::install::testing {

inline std::vector<model::Object> decode(const std::string& yaml, const std::string& file = "iop.yaml") {
  auto decoded = model::decodeYaml(yaml, file, {});
  for (const auto& error : decoded.errors) ADD_FAILURE() << error;
  return decoded.objects;
}

// An IstioOperator with `spec` (YAML, indented by two) as its spec.
inline std::string istioOperator(const std::string& spec, const std::string& name = "iop") {
  return "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: " + name +
         "\n  namespace: istio-system\nspec:\n" + spec;
}

inline InstallPlan plan(const std::vector<model::Object>& operators, InstallOptions options = {}) {
  auto planned = planInstall(operators, options);
  if (!planned) {
    ADD_FAILURE() << planned.error().message;
    return {};
  }
  return std::move(planned).value();
}

inline std::string planError(const std::vector<model::Object>& operators, InstallOptions options = {}) {
  auto planned = planInstall(operators, options);
  EXPECT_FALSE(planned.ok());
  return planned.ok() ? "" : planned.error().message;
}

inline const model::Object* findObject(const InstallPlan& plan, std::string_view kind, std::string_view name) {
  for (const auto& o : plan.objects) {
    if (o.kind() == kind && o.name() == name) return &o;
  }
  return nullptr;
}

inline std::vector<std::string> objectNames(const InstallPlan& plan) {
  std::vector<std::string> names;
  for (const auto& o : plan.objects) names.push_back(o.friendlyName());
  return names;
}

}  // namespace weft::install::testing
