#pragma once
// RateLimitPolicy (policy.weft.dev/v1alpha1) compiled into the proxy view: one
// weft.v1.RateLimitPolicy resource per policy, named "<ns>/<name>", with its targetRefs
// resolved to what a proxy knows a request by, the Istio Gateway it came through
// ("<ns>/<name>", as Listener.gateway) and the Services its route sends to (hostnames, as
// Cluster.service_hostname). Every proxy gets every policy and keeps what applies to its
// own listeners, as it does with Listeners.
//
// Pure, like the rest of the view. Targets the proxy cannot serve yet (Gateway API
// Gateways and HTTPRoutes) are notes, not errors; a policy left with no target it can
// apply is not sent. The schema has already refused malformed policies at apply time;
// anything that still does not read (a hand-edited store) leaves the rule or the policy
// out with a note and changes nothing else.

#include <string>

#include "control/registry.h"

namespace weft::control {

inline constexpr const char* kRateLimitPolicyKind = "RateLimitPolicy.policy.weft.dev";
inline constexpr const char* kRateLimitPolicyType = "weft.v1.RateLimitPolicy";

// Adds the policies to `build.resources[kRateLimitPolicyType]`, notes to `build.notes`.
void addRateLimitPolicies(const ObjectsByKind& objects, RegistryBuild& build);

}  // namespace weft::control
