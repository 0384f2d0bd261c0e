// Ambient mode: objects bound to a waypoint that does not exist (IST0101), and
// AuthorizationPolicies whose L7 rules land on ztunnel, which cannot enforce them (IST0167).
#include <boost/json.hpp>

#include <algorithm>

#include "analyze/analyzer.h"
#include "model/document.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

const char* const kUseWaypointLabel = "istio.io/use-waypoint";
const char* const kUseWaypointNamespaceLabel = "istio.io/use-waypoint-namespace";

// --- IST0101: waypoint bindings -------------------------------------------------------------

// The label names a Gateway API Gateway (the waypoint) in the object's own namespace, or in
// the one istio.io/use-waypoint-namespace names; "none" opts a workload out of one.
void checkWaypointBinding(Context& ctx, const model::Object& o) {
  std::string waypoint = o.label(kUseWaypointLabel);
  if (waypoint.empty() || waypoint == "none") return;
  std::string ns = o.label(kUseWaypointNamespaceLabel);
  if (ns.empty()) ns = o.kind() == "Namespace" ? o.name() : o.ns();
  if (ctx.find("Gateway.gateway.networking.k8s.io", ns, waypoint) != nullptr) return;
  ctx.report(makeMessage(msg::kReferencedResourceNotFound, o, model::pointerChild("/metadata/labels", kUseWaypointLabel),
                         fmt::format("Referenced waypoint not found: \"{}/{}\"", ns, waypoint)));
}

void waypoints(Context& ctx) {
  for (const char* kind : {"Namespace", "Service", "ServiceEntry.networking.istio.io", "Pod"}) {
    for (const auto* o : ctx.ofKind(kind)) checkWaypointBinding(ctx, *o);
  }
}

// --- IST0167: L7 policies enforced by ztunnel ----------------------------------------------

bool inAmbientNamespace(const Context& ctx, const model::Object& o) {
  const auto* ns = ctx.find("Namespace", "", o.ns());
  return ns != nullptr && ns->label("istio.io/dataplane-mode") == "ambient";
}

void collectPresent(const json::value& v, std::initializer_list<const char*> fields, std::string_view prefix,
                    std::vector<std::string>& out) {
  for (const char* field : fields) {
    const auto& value = at(v, {field});
    if (value.is_array() && !value.get_array().empty()) out.push_back(fmt::format("{}.{}", prefix, field));
  }
}

// The attributes of `policy` that only an HTTP-aware proxy can evaluate.
std::vector<std::string> l7Attributes(const model::Object& policy) {
  std::vector<std::string> out;
  const auto& rules = at(policy.value(), {"spec", "rules"});
  if (!rules.is_array()) return out;
  for (const auto& rule : rules.get_array()) {
    if (const auto& to = at(rule, {"to"}); to.is_array()) {
      for (const auto& t : to.get_array()) {
        collectPresent(at(t, {"operation"}), {"methods", "notMethods", "paths", "notPaths", "hosts", "notHosts"}, "to.operation", out);
      }
    }
    if (const auto& from = at(rule, {"from"}); from.is_array()) {
      for (const auto& f : from.get_array()) {
        collectPresent(at(f, {"source"}), {"requestPrincipals", "notRequestPrincipals"}, "from.source", out);
      }
    }
    if (const auto& when = at(rule, {"when"}); when.is_array()) {
      for (const auto& condition : when.get_array()) {
        std::string key = stringAt(condition, {"key"});
        if (key.rfind("request.", 0) == 0) out.push_back("when " + key);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// In an ambient namespace a policy without targetRefs is enforced by ztunnel, which sees
// only L4; waypoints ignore it. Its L7 rules therefore never do what they say.
void ineffectivePolicies(Context& ctx) {
  for (const auto* policy : ctx.ofKind("AuthorizationPolicy.security.istio.io")) {
    const auto& spec = policy->field("spec");
    if (!at(spec, {"targetRef"}).is_null() || !at(spec, {"targetRefs"}).is_null()) continue;
    if (!inAmbientNamespace(ctx, *policy)) continue;
    auto attributes = l7Attributes(*policy);
    if (attributes.empty()) continue;
    std::string list;
    for (const auto& a : attributes) list += (list.empty() ? "" : ", ") + a;
    ctx.report(makeMessage(msg::kIneffectivePolicy, *policy, "/spec/rules",
                           fmt::format("The policy has no impact: its L7 rules ({}) are enforced by ztunnel, which cannot "
                                       "evaluate them in ambient namespace {}; L7 rules require a waypoint, so bind the policy "
                                       "to one with targetRefs.",
                                       list, policy->ns())));
  }
}

}  // namespace

void addAmbientAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"ambient.WaypointAnalyzer", waypoints});
  out.push_back({"ambient.IneffectivePolicyAnalyzer", ineffectivePolicies});
}

}  // namespace weft::analyze
