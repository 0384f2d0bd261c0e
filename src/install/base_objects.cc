#include "install/component_objects.h"
#include "install/install_names.h"
#include "install/k8s_objects.h"

namespace weft::install {

std::vector<model::Object> baseObjects(const InstallPlan& plan) {
  // Istio's base chart makes this account for remote clusters' istiods to read this one
  // (istioctl create-remote-secret uses it).
  auto labels = withLabels(installLabels("Base", plan.revision), {{"app", "istio-reader"}});
  std::vector<model::Object> objects;
  objects.push_back(makeServiceAccount("istio-reader-service-account", kIstioNamespace, std::move(labels)));
  return objects;
}

}  // namespace weft::install
