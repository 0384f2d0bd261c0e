// VirtualServices that route on JWT claims ("@request.auth.claims..." header matches) at
// a Gateway whose pods no RequestAuthentication covers (IST0149, once per such pod, as
// istioctl reports it): without one no token is verified there, so no claim is ever
// present and such a route never matches.
#include <boost/json.hpp>

#include "analyze/analyzer.h"
#include "model/gateway_names.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

constexpr std::string_view kClaimPrefix = "@request.auth.claims";

// The first claim key a VirtualService's http matches name, or "".
std::string claimKey(const model::Object& vs) {
  const auto& rules = at(vs.value(), {"spec", "http"});
  if (!rules.is_array()) return "";
  for (const auto& rule : rules.get_array()) {
    const auto& matches = at(rule, {"match"});
    if (!matches.is_array()) continue;
    for (const auto& match : matches.get_array()) {
      for (const char* field : {"headers", "withoutHeaders"}) {
        const auto& headers = at(match, {field});
        if (!headers.is_object()) continue;
        for (const auto& [name, value] : headers.get_object()) {
          if (std::string_view(name).starts_with(kClaimPrefix)) return std::string(name);
        }
      }
    }
  }
  return "";
}

// A RequestAuthentication covers a pod from the pod's namespace or the root namespace,
// with no selector or one its labels match (targetRefs name Gateway API targets only).
bool authenticated(const Context& ctx, const model::Object& pod) {
  const auto& labels = at(pod.value(), {"metadata", "labels"});
  static const json::object none;
  for (const auto* policy : ctx.ofKind("RequestAuthentication.security.istio.io")) {
    if (policy->ns() != pod.ns() && policy->ns() != ctx.istioNamespace()) continue;
    const auto& spec = policy->field("spec");
    if (!at(spec, {"targetRef"}).is_null() || !at(spec, {"targetRefs"}).is_null()) continue;
    const auto& selector = at(spec, {"selector", "matchLabels"});
    if (!selector.is_object() || labelsMatch(labels.is_object() ? labels.get_object() : none, selector.get_object())) return true;
  }
  return false;
}

void claimRoutes(Context& ctx) {
  for (const auto* vs : ctx.ofKind("VirtualService.networking.istio.io")) {
    std::string key = claimKey(*vs);
    if (key.empty()) continue;
    const auto& gateways = at(vs->value(), {"spec", "gateways"});
    if (!gateways.is_array()) continue;
    for (const auto& ref : gateways.get_array()) {
      if (!ref.is_string() || ref.get_string() == "mesh") continue;
      std::string resolved = model::resolveGatewayName(ref.get_string(), vs->ns());
      auto slash = resolved.find('/');
      const auto* gateway = ctx.find("Gateway.networking.istio.io", resolved.substr(0, slash), resolved.substr(slash + 1));
      if (gateway == nullptr) continue;  // IST0101 says so
      const auto& selector = at(gateway->value(), {"spec", "selector"});
      if (!selector.is_object()) continue;
      for (const auto* pod : ctx.podsMatching("", selector.get_object())) {
        if (authenticated(ctx, *pod)) continue;
        ctx.report(makeMessage(msg::kJwtClaimBasedRoutingWithoutRequestAuthN, *vs, "/spec/gateways",
                               fmt::format("The virtual service uses the JWT claim based routing (key: {}) but found no request authentication "
                                           "for the gateway ({}) pod ({}/{}); a RequestAuthentication must apply to the gateway's pods so "
                                           "tokens are verified and their claims can route",
                                           key, resolved, pod->ns(), pod->name())));
      }
    }
  }
}

}  // namespace

void addJwtClaimRouteAnalyzers(std::vector<Analyzer>& out) { out.push_back({"virtualservice.JWTClaimRouteAnalyzer", claimRoutes}); }

}  // namespace weft::analyze
