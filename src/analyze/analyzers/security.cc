// AuthorizationPolicies: selectors that match no workload (IST0127) and source namespaces
// that do not exist (IST0101), either of which leaves a rule doing nothing.
// RequestAuthentications whose keys the control plane fetches while it may connect
// anywhere (IST0175).
#include <boost/json.hpp>

#include <algorithm>
#include <optional>

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

// Whether an istiod (weftd) Deployment of the analysed objects sets the variable; nullopt
// when none is among them (files analysed alone say nothing of its environment).
std::optional<bool> controlPlaneBlocksJwksCidrs(const Context& ctx) {
  std::optional<bool> blocks;
  for (const auto* deployment : ctx.ofKind("Deployment.apps")) {
    if (deployment->ns() != ctx.istioNamespace() || at(deployment->value(), {"metadata", "labels", "app"}) != json::value("istiod")) continue;
    blocks = blocks.value_or(false);
    const auto& containers = at(deployment->value(), {"spec", "template", "spec", "containers"});
    if (!containers.is_array()) continue;
    for (const auto& container : containers.get_array()) {
      const auto& env = at(container, {"env"});
      if (!env.is_array()) continue;
      for (const auto& e : env.get_array()) {
        if (at(e, {"name"}) == json::value("BLOCKED_CIDRS_IN_JWKS_URIS") && at(e, {"value"}).is_string() &&
            !at(e, {"value"}).get_string().empty()) {
          blocks = true;
        }
      }
    }
  }
  return blocks;
}

// A jwtRule without inline `jwks` is fetched by the control plane (its jwksUri, or its
// issuer's discovery document): a policy author picks what weftd connects to.
void unrestrictedJwksFetches(Context& ctx) {
  std::optional<bool> blocks;
  bool asked = false;
  for (const auto* policy : ctx.ofKind("RequestAuthentication.security.istio.io")) {
    const auto& rules = at(policy->value(), {"spec", "jwtRules"});
    if (!rules.is_array()) continue;
    for (size_t i = 0; i < rules.get_array().size(); ++i) {
      const auto& rule = rules.get_array()[i];
      if (at(rule, {"jwks"}).is_string()) continue;
      if (!asked) {
        blocks = controlPlaneBlocksJwksCidrs(ctx);
        asked = true;
      }
      if (blocks.value_or(true)) return;
      bool uri = at(rule, {"jwksUri"}).is_string();
      ctx.report(makeMessage(msg::kJwksUriFetchUnrestricted, *policy, fmt::format("/spec/jwtRules/{}{}", i, uri ? "/jwksUri" : "/issuer"),
                             fmt::format("The control plane fetches this rule's keys ({}) with no BLOCKED_CIDRS_IN_JWKS_URIS set, so it may "
                                         "connect to any address, internal ones included; set it in istiod's environment",
                                         uri ? "jwksUri" : "OpenID discovery from the issuer")));
    }
  }
}

}  // namespace

void addSecurityAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"auth.AuthorizationPoliciesAnalyzer", authorizationPolicies});
  out.push_back({"auth.JwksUriFetchAnalyzer", unrestrictedJwksFetches});
}

}  // namespace weft::analyze
