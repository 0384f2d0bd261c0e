// AuthorizationPolicies: selectors that match no workload (IST0127) and source namespaces
// that do not exist (IST0101), either of which leaves a rule doing nothing.
// istiod Deployments that let RequestAuthentication key fetches reach any address (IST0175).
#include <boost/json.hpp>

#include <algorithm>

#include "analyze/analyzer.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

const char* const kAuthorizationPolicy = "AuthorizationPolicy.security.istio.io";

bool targetsRefs(const json::value& spec) { return !at(spec, {"targetRef"}).is_null() || !at(spec, {"targetRefs"}).is_null(); }

// --- IST0127 --------------------------------------------------------------------------------

// A policy in the root namespace applies mesh-wide, so its selector may match anywhere.
// A selector-less policy covers its namespace; with no workloads there, nothing is governed.
// Policies bound by targetRefs attach to gateways and waypoints, not to pods.
void noMatchingWorkloads(Context& ctx, const model::Object& policy) {
  const auto& spec = policy.field("spec");
  if (targetsRefs(spec)) return;
  bool meshWide = policy.ns() == ctx.istioNamespace();
  const auto& labels = at(spec, {"selector", "matchLabels"});
  if (labels.is_object() && !labels.get_object().empty()) {
    if (!ctx.podsMatching(meshWide ? "" : policy.ns(), labels.get_object()).empty()) return;
    ctx.report(makeMessage(msg::kNoMatchingWorkloadsFound, policy, "/spec/selector",
                           fmt::format("No matching workloads for this resource with the following labels: {}",
                                       selectorString(labels.get_object()))));
    return;
  }
  if (meshWide || !ctx.podsMatching(policy.ns(), json::object()).empty()) return;
  ctx.report(makeMessage(msg::kNoMatchingWorkloadsFound, policy, "/metadata/namespace",
                         "No matching workloads for this resource with the following labels: "));
}

// --- IST0101: source namespaces -----------------------------------------------------------

// Namespaces every cluster has, whether or not the analysed files declare them.
bool namespaceExists(const Context& ctx, const std::string& name) {
  if (name == "default" || name == "kube-system" || name == "kube-public" || name == "kube-node-lease" || name == ctx.istioNamespace()) {
    return true;
  }
  return ctx.find("Namespace", "", name) != nullptr;
}

void unknownSourceNamespaces(Context& ctx, const model::Object& policy) {
  const auto& rules = at(policy.value(), {"spec", "rules"});
  if (!rules.is_array()) return;
  for (size_t r = 0; r < rules.get_array().size(); ++r) {
    const auto& from = at(rules.get_array()[r], {"from"});
    if (!from.is_array()) continue;
    for (size_t f = 0; f < from.get_array().size(); ++f) {
      for (const char* field : {"namespaces", "notNamespaces"}) {
        const auto& names = at(from.get_array()[f], {"source", field});
        if (!names.is_array()) continue;
        for (size_t n = 0; n < names.get_array().size(); ++n) {
          const auto& name = names.get_array()[n];
          // Wildcard patterns ("prod-*") may match namespaces created later.
          if (!name.is_string() || name.get_string().find('*') != json::string::npos) continue;
          std::string ns(name.get_string());
          if (namespaceExists(ctx, ns)) continue;
          ctx.report(makeMessage(msg::kReferencedResourceNotFound, policy,
                                 fmt::format("/spec/rules/{}/from/{}/source/{}/{}", r, f, field, n),
                                 fmt::format("Referenced namespace not found: \"{}\"", ns)));
        }
      }
    }
  }
}

void authorizationPolicies(Context& ctx) {
  for (const auto* policy : ctx.ofKind(kAuthorizationPolicy)) {
    noMatchingWorkloads(ctx, *policy);
    unknownSourceNamespaces(ctx, *policy);
  }
}

// --- IST0175 ----------------------------------------------------------------------------------

bool setsBlockedCidrs(const model::Object& deployment) {
  const auto& containers = at(deployment.value(), {"spec", "template", "spec", "containers"});
  if (!containers.is_array()) return false;
  for (const auto& container : containers.get_array()) {
    const auto& env = at(container, {"env"});
    if (!env.is_array()) continue;
    for (const auto& e : env.get_array()) {
      const auto& value = at(e, {"value"});
      if (at(e, {"name"}) == json::value("BLOCKED_CIDRS_IN_JWKS_URIS") && value.is_string() && !value.get_string().empty()) return true;
    }
  }
  return false;
}

// The control plane fetches RequestAuthentication keys from URLs policy authors choose:
// each istiod (weftd) Deployment that blocks no ranges for it is reported once, naming
// the policies (five, then how many more), as istioctl's BlockedCIDRsAnalyzer does.
void unrestrictedJwksFetches(Context& ctx) {
  const auto& policies = ctx.ofKind("RequestAuthentication.security.istio.io");
  if (policies.empty()) return;
  std::string names;
  for (size_t i = 0; i < policies.size() && i < 5; ++i) names += (i == 0 ? "" : ", ") + policies[i]->ns() + "/" + policies[i]->name();
  if (policies.size() > 5) names += fmt::format(", and {} more", policies.size() - 5);
  for (const auto* deployment : ctx.ofKind("Deployment.apps")) {
    if (at(deployment->value(), {"metadata", "labels", "app"}) != json::value("istiod") || setsBlockedCidrs(*deployment)) continue;
    ctx.report(makeMessage(msg::kJwksUriFetchUnrestricted, *deployment, "/spec/template/spec/containers",
                           fmt::format("BLOCKED_CIDRS_IN_JWKS_URIS is not configured but {} RequestAuthentication resource(s) exist ({}): "
                                       "the control plane may fetch JWKS from any address, internal ones included",
                                       policies.size(), names)));
  }
}

}  // namespace

void addSecurityAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"auth.AuthorizationPoliciesAnalyzer", authorizationPolicies});
  out.push_back({"authn.BlockedCIDRsAnalyzer", unrestrictedJwksFetches});
}

}  // namespace weft::analyze
