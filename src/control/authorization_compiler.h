#pragma once
// AuthorizationPolicy and PeerAuthentication compiled to what ztunnel enforces at L4,
// with ztunnel's semantics (../shared/reference/hbone-and-ztunnel.md):
// - an ALLOW rule that uses any L7-only field (methods, paths, hosts, request principals,
//   `when` on request attributes) can never match at L4, so it is dropped and the policy
//   is marked; a DENY rule has those fields stripped, so it denies more rather than less;
// - policies attached by targetRefs (waypoint policies) are not for ztunnel at all;
// - CUSTOM actions are not supported and are skipped with a reason.

#include <optional>
#include <string>
#include <vector>

#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

struct CompiledPolicy {
  std::optional<weft::v1::Authorization> authorization;  // nullopt: nothing for ztunnel
  std::string skipped;                                   // why, when nullopt
};

CompiledPolicy compileAuthorizationPolicy(const model::Object& policy, const std::string& rootNamespace);
CompiledPolicy compilePeerAuthentication(const model::Object& policy, const std::string& rootNamespace);

// The same policy with every L7 field kept, for weft-proxy; nullopt for CUSTOM and for
// policies attached by targetRefs (those are compileTargetedHttpAuthorization's).
std::optional<weft::v1::HttpAuthorization> compileHttpAuthorization(const model::Object& policy, const std::string& rootNamespace);

// A policy attached by targetRefs, for waypoints: every L7 field, with its targets resolved
// (a Service to its hostname in target_services, a gateway.networking.k8s.io Gateway to
// "<ns>/<name>" in target_gateways). nullopt without targetRefs, for CUSTOM, or when no
// target is one of those (each target left out is a note).
std::optional<weft::v1::HttpAuthorization> compileTargetedHttpAuthorization(const model::Object& policy, const std::string& rootNamespace,
                                                                            std::vector<std::string>& notes);

// Istio's string match spelling: "*" presence, "abc*" prefix, "*abc" suffix, else exact.
weft::v1::Match parseMatch(std::string_view value);

}  // namespace weft::control
