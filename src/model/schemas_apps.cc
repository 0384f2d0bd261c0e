// apps/v1 Deployment and DaemonSet. Their selector must match their template's labels,
// as the API server insists.
#include <boost/json.hpp>

#include "model/kinds.h"
#include "model/pod_spec.h"

namespace weft::model {
namespace {

namespace json = boost::json;

void checkSelectorMatchesTemplate(const Site& spec) {
  const auto& obj = spec.value.get_object();
  const auto* selector = obj.if_contains("selector");
  const auto* tmpl = obj.if_contains("template");
  if (selector == nullptr || tmpl == nullptr || !selector->is_object() || !tmpl->is_object()) return;
  const auto* matchLabels = selector->get_object().if_contains("matchLabels");
  const auto* meta = tmpl->get_object().if_contains("metadata");
  const json::value* labels = meta && meta->is_object() ? meta->get_object().if_contains("labels") : nullptr;
  if (matchLabels == nullptr || !matchLabels->is_object()) return;
  for (const auto& [key, value] : matchLabels->get_object()) {
    const json::value* actual = labels && labels->is_object() ? labels->get_object().if_contains(key) : nullptr;
    if (actual == nullptr || *actual != value) {
      spec.reporter.error(spec.path + ".template.metadata.labels", spec.pointer + "/template/metadata/labels",
                          "`selector` does not match template `labels`");
      return;
    }
  }
}

SchemaPtr rollingUpdate() { return object().field("maxSurge", intOrString()).field("maxUnavailable", intOrString()); }

}  // namespace

void addAppsKinds(std::vector<KindInfo>& kinds) {
  SchemaPtr deploymentSpec = object()
                                 .field("replicas", integer(0, INT32_MAX))
                                 .required("selector", labelSelectorSchema())
                                 .required("template", podTemplateSchema())
                                 .field("strategy", object()
                                                        .field("type", enumOf({"RollingUpdate", "Recreate"}))
                                                        .field("rollingUpdate", rollingUpdate()))
                                 .field("minReadySeconds", integer(0, INT32_MAX))
                                 .field("revisionHistoryLimit", integer(0, INT32_MAX))
                                 .field("progressDeadlineSeconds", integer(1, INT32_MAX))
                                 .field("paused", boolean())
                                 .check(checkSelectorMatchesTemplate);
  SchemaPtr daemonSetSpec = object()
                                .required("selector", labelSelectorSchema())
                                .required("template", podTemplateSchema())
                                .field("updateStrategy", object()
                                                             .field("type", enumOf({"RollingUpdate", "OnDelete"}))
                                                             .field("rollingUpdate", rollingUpdate()))
                                .field("minReadySeconds", integer(0, INT32_MAX))
                                .field("revisionHistoryLimit", integer(0, INT32_MAX))
                                .check(checkSelectorMatchesTemplate);
  kinds.push_back(KindInfo{"apps", "Deployment", {"v1"}, "v1", "deployments", {"deploy"}, true,
                           object().required("spec", deploymentSpec).field("status", preservedStatus())});
  kinds.push_back(KindInfo{"apps", "DaemonSet", {"v1"}, "v1", "daemonsets", {"ds"}, true,
                           object().required("spec", daemonSetSpec).field("status", preservedStatus())});
}

}  // namespace weft::model
