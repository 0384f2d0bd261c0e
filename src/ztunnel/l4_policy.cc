#include "ztunnel/l4_policy.h"

#include <fmt/format.h>

#include "xds/policy_match.h"

namespace weft::ztunnel {
namespace {

using weft::v1::Authorization;
using xds::addressIn;
using xds::anyMatches;
using xds::SourceFacts;
using xds::sourceFacts;

bool appliesTo(const Authorization& policy, const weft::v1::Workload& workload, const std::string& rootNamespace) {
  return xds::policyApplies(policy.scope(), policy.namespace_(), policy.selector(), workload.namespace_(), workload.labels(), rootNamespace);
}

bool portIn(const google::protobuf::RepeatedField<uint32_t>& ports, uint32_t port) {
  for (uint32_t p : ports) {
    if (p == port) return true;
  }
  return false;
}

// Every populated field must match (any of its values); the not- forms must not.
bool groupMatches(const weft::v1::RuleGroup& group, const SourceFacts& source, const L4Connection& c) {
  if (!group.principals().empty() && !anyMatches(group.principals(), source.principal)) return false;
  if (!group.not_principals().empty() && anyMatches(group.not_principals(), source.principal)) return false;
  if (!group.namespaces().empty() && !anyMatches(group.namespaces(), source.ns)) return false;
  if (!group.not_namespaces().empty() && anyMatches(group.not_namespaces(), source.ns)) return false;
  if (!group.ip_blocks().empty() && !addressIn(group.ip_blocks(), c.sourceAddress)) return false;
  if (!group.not_ip_blocks().empty() && addressIn(group.not_ip_blocks(), c.sourceAddress)) return false;
  if (!group.destination_ip_blocks().empty() && !addressIn(group.destination_ip_blocks(), c.destinationAddress)) return false;
  if (!group.not_destination_ip_blocks().empty() && addressIn(group.not_destination_ip_blocks(), c.destinationAddress)) return false;
  if (!group.ports().empty() && !portIn(group.ports(), c.destinationPort)) return false;
  if (!group.not_ports().empty() && portIn(group.not_ports(), c.destinationPort)) return false;
  return true;
}

// A policy with no groups never matches (an ALLOW without rules allows nothing).
bool policyMatches(const Authorization& policy, const SourceFacts& source, const L4Connection& c) {
  for (const auto& group : policy.groups()) {
    if (groupMatches(group, source, c)) return true;
  }
  return false;
}

std::string nameOf(const Authorization& policy) { return policy.namespace_() + "/" + policy.name(); }

}  // namespace

bool isPeerAuthentication(const Authorization& policy) { return policy.name().starts_with("peerauthentication/"); }

Authorization::MtlsMode effectiveMtlsMode(const ConfigSnapshot& config, const weft::v1::Workload& destination, uint32_t port) {
  const std::string root = config.mesh().root_namespace().empty() ? "istio-system" : config.mesh().root_namespace();
  Authorization::MtlsMode mesh = Authorization::UNSET, ns = Authorization::UNSET, workload = Authorization::UNSET, atPort = Authorization::UNSET;
  for (const auto& policy : config.authorizations()) {
    if (!isPeerAuthentication(policy) || !appliesTo(policy, destination, root)) continue;
    if (policy.scope() == Authorization::WORKLOAD_SELECTOR) {
      if (policy.mtls_mode() != Authorization::UNSET) workload = policy.mtls_mode();
      if (auto it = policy.port_mtls().find(port); it != policy.port_mtls().end() && it->second != Authorization::UNSET) atPort = it->second;
    } else if (policy.scope() == Authorization::NAMESPACE) {
      ns = policy.mtls_mode();
    } else {
      mesh = policy.mtls_mode();
    }
  }
  // DISABLE is not possible in ambient (Istio ignores it): it counts as not saying.
  for (auto mode : {atPort, workload, ns, mesh}) {
    if (mode == Authorization::STRICT || mode == Authorization::PERMISSIVE) return mode;
  }
  return Authorization::PERMISSIVE;
}

L4Decision evaluateL4Policy(const ConfigSnapshot& config, const weft::v1::Workload& destination, const L4Connection& connection) {
  if (connection.sourceIdentity.empty() && effectiveMtlsMode(config, destination, connection.destinationPort) == Authorization::STRICT) {
    return {false, "", "PeerAuthentication STRICT: plaintext from outside the mesh"};
  }
  const std::string root = config.mesh().root_namespace().empty() ? "istio-system" : config.mesh().root_namespace();
  SourceFacts source = sourceFacts(connection.sourceIdentity);
  bool anyAllow = false;
  for (const auto& policy : config.authorizations()) {
    if (isPeerAuthentication(policy) || !appliesTo(policy, destination, root)) continue;
    if (policy.action() == Authorization::DENY && policyMatches(policy, source, connection)) {
      return {false, nameOf(policy), fmt::format("denied by DENY policy {}", nameOf(policy))};
    }
  }
  for (const auto& policy : config.authorizations()) {
    if (isPeerAuthentication(policy) || !appliesTo(policy, destination, root) || policy.action() != Authorization::ALLOW) continue;
    anyAllow = true;
    if (policyMatches(policy, source, connection)) return {true, nameOf(policy), fmt::format("allowed by {}", nameOf(policy))};
  }
  if (anyAllow) return {false, "", "no ALLOW policy matched"};
  return {true, "", ""};
}

}  // namespace weft::ztunnel
