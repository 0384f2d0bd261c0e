#include "ztunnel/l4_policy.h"

#include <fmt/format.h>

#include "tls/spiffe_id.h"

namespace weft::ztunnel {
namespace {

using weft::v1::Authorization;

bool appliesTo(const Authorization& policy, const weft::v1::Workload& workload, const std::string& rootNamespace) {
  switch (policy.scope()) {
    case Authorization::GLOBAL:
      return policy.namespace_() == rootNamespace;
    case Authorization::NAMESPACE:
      return policy.namespace_() == workload.namespace_();
    case Authorization::WORKLOAD_SELECTOR: {
      if (policy.namespace_() != workload.namespace_() && policy.namespace_() != rootNamespace) return false;
      for (const auto& [key, value] : policy.selector()) {
        auto it = workload.labels().find(key);
        if (it == workload.labels().end() || it->second != value) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

bool stringMatches(const weft::v1::Match& match, const std::string& value) {
  switch (match.kind()) {
    case weft::v1::Match::PRESENCE:
      return !value.empty();
    case weft::v1::Match::PREFIX:
      return value.starts_with(match.value());
    case weft::v1::Match::SUFFIX:
      return value.ends_with(match.value());
    default:
      return value == match.value();
  }
}

bool anyMatches(const google::protobuf::RepeatedPtrField<weft::v1::Match>& matches, const std::string& value) {
  for (const auto& m : matches) {
    if (stringMatches(m, value)) return true;
  }
  return false;
}

bool addressIn(const google::protobuf::RepeatedPtrField<std::string>& blocks, Ipv4Address address) {
  for (const auto& block : blocks) {
    if (block.find('/') == std::string::npos) {
      if (auto single = Ipv4Address::parse(block); single && *single == address) return true;
    } else if (auto cidr = Ipv4Cidr::parse(block); cidr && cidr->contains(address)) {
      return true;
    }
  }
  return false;
}

bool portIn(const google::protobuf::RepeatedField<uint32_t>& ports, uint32_t port) {
  for (uint32_t p : ports) {
    if (p == port) return true;
  }
  return false;
}

// Istio writes principals without the scheme: "cluster.local/ns/default/sa/sleep".
struct SourceFacts {
  std::string principal;
  std::string ns;
};

SourceFacts sourceFacts(const std::string& identity) {
  auto parsed = tls::SpiffeId::parse(identity);
  if (!parsed) return {};
  return {identity.substr(std::string_view("spiffe://").size()), parsed->ns};
}

// Every populated field must match (any of its values); the not- forms must not.
bool groupMatches(const weft::v1::RuleGroup& group, const SourceFacts& source, const L4Connection& c) {
  if (!group.principals().empty() && !anyMatches(group.principals(), source.principal)) return false;
  if (!group.not_principals().empty() && anyMatches(group.not_principals(), source.principal)) return false;
  if (!group.namespaces().empty() && !anyMatches(group.namespaces(), source.ns)) return false;
  if (!group.not_namespaces().empty() && anyMatches(group.not_namespaces(), source.ns)) return false;
  if (!group.ip_blocks().empty() && !addressIn(group.ip_blocks(), c.sourceAddress)) return false;
  if (!group.not_ip_blocks().empty() && addressIn(group.not_ip_blocks(), c.sourceAddress)) return false;
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
