// apps/v1 Deployment and DaemonSet. Their selector must match their template's labels,
// as the API server insists.
#include <boost/json.hpp>

#include "model/kinds.h"
#include "model/pod_spec.h"

namespace weft::model {
namespace {

namespace json = boost::json;

// The selector must be non-empty and match the template's labels; the template's pods must
// restart always (a Deployment or DaemonSet keeps them running).
void checkSelectorMatchesTemplate(const Site& spec) {
  const auto& obj = spec.value.get_object();
  const auto* selector = obj.if_contains("selector");
  const auto* tmpl = obj.if_contains("template");
  if (selector == nullptr || tmpl == nullptr || !selector->is_object() || !tmpl->is_object()) return;
  const auto* restart = tmpl->get_object().if_contains("spec");
  if (restart && restart->is_object()) {
    const auto* policy = restart->get_object().if_contains("restartPolicy");
    // Other values are refused by the PodSpec's enum already; these two are valid for Pods only.
    if (policy && policy->is_string() && (policy->get_string() == "OnFailure" || policy->get_string() == "Never")) {
      spec.reporter.error(spec.path + ".template.spec.restartPolicy", spec.pointer + "/template/spec/restartPolicy",
                          fmt::format("unsupported value \"{}\": must be Always", std::string_view(policy->get_string())));
    }
  }
  const auto* matchLabels = selector->get_object().if_contains("matchLabels");
  const auto* matchExpressions = selector->get_object().if_contains("matchExpressions");
  bool noLabels = matchLabels == nullptr || !matchLabels->is_object() || matchLabels->get_object().empty();
  bool noExpressions = matchExpressions == nullptr || !matchExpressions->is_array() || matchExpressions->get_array().empty();
  if (noLabels && noExpressions) {
    spec.reporter.error(spec.path + ".selector", spec.pointer + "/selector", "empty selector is invalid for a workload");
    return;
  }
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
