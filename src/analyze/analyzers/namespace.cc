// Namespace enrolment, adapted to ambient: namespaces running workloads that are in the
// mesh neither by ambient nor by sidecar injection (IST0102), and namespaces carrying both
// injection labels (IST0123).
#include <boost/json.hpp>

#include <set>

#include "analyze/analyzer.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

const char* const kInjectionLabel = "istio-injection";
const char* const kRevisionLabel = "istio.io/rev";
const char* const kDataplaneModeLabel = "istio.io/dataplane-mode";

bool isSystemNamespace(const Context& ctx, std::string_view ns) {
  return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease" || ns == "local-path-storage" ||
         ns == ctx.istioNamespace();
}

// Namespaces with something that runs: pods, or the controllers that will create them
// (files usually carry Deployments rather than Pods).
std::set<std::string> namespacesWithWorkloads(const Context& ctx) {
  std::set<std::string> out;
  for (const char* kind : {"Pod", "Deployment.apps", "DaemonSet.apps", "StatefulSet.apps", "ReplicaSet.apps", "Job.batch", "CronJob.batch"}) {
    for (const auto* o : ctx.ofKind(kind)) out.insert(o->ns());
  }
  return out;
}

const json::value* labelOf(const model::Object& ns, std::string_view key) { return ns.labels().if_contains(key); }

bool labelIs(const model::Object& ns, std::string_view key, std::string_view value) {
  const auto* v = labelOf(ns, key);
  return v != nullptr && v->is_string() && v->get_string() == value;
}

// In the mesh: ambient, a revision, or the legacy injection label.
bool enrolled(const model::Object& ns) {
  return labelIs(ns, kDataplaneModeLabel, "ambient") || labelOf(ns, kRevisionLabel) != nullptr ||
         labelIs(ns, kInjectionLabel, "enabled");
}

// Any other value of either label is a deliberate choice (dataplane-mode=none,
// istio-injection=disabled), not an oversight.
bool optedOut(const model::Object& ns) {
  return (labelOf(ns, kDataplaneModeLabel) != nullptr && !labelIs(ns, kDataplaneModeLabel, "ambient")) ||
         (labelOf(ns, kInjectionLabel) != nullptr && !labelIs(ns, kInjectionLabel, "enabled"));
}

void injection(Context& ctx) {
  auto withWorkloads = namespacesWithWorkloads(ctx);
  for (const auto* ns : ctx.ofKind("Namespace")) {
    std::string name = ns->name();
    if (isSystemNamespace(ctx, name)) continue;
    if (labelOf(*ns, kInjectionLabel) != nullptr && labelOf(*ns, kRevisionLabel) != nullptr) {
      ctx.report(makeMessage(msg::kNamespaceMultipleInjectionLabels, *ns, "/metadata/labels",
                             fmt::format("The namespace has more than one type of injection labels [{} {}], which may lead to "
                                         "undefined behavior. Make sure only one injection label exists.",
                                         kInjectionLabel, kRevisionLabel)));
      continue;
    }
    if (enrolled(*ns) || optedOut(*ns) || withWorkloads.count(name) == 0) continue;
    ctx.report(makeMessage(msg::kNamespaceNotInjected, *ns, "/metadata/name",
                           fmt::format("The namespace is not enabled for Istio injection. Run 'weft label namespace {0} "
                                       "istio.io/dataplane-mode=ambient' to enroll it in the mesh, or 'weft label namespace {0} "
                                       "istio.io/dataplane-mode=none' to explicitly mark it as not needing it.",
                                       name)));
  }
}

}  // namespace

void addNamespaceAnalyzers(std::vector<Analyzer>& out) { out.push_back({"injection.Analyzer", injection}); }

}  // namespace weft::analyze
