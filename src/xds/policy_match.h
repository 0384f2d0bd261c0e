#pragma once
// Matching the values of Istio's AuthorizationPolicy rules, shared by ztunnel (L4) and
// weft-proxy (L7) so both read a policy alike.

#include <string>

#include "base/ipv4.h"
#include "weft/v1/discovery.pb.h"

namespace weft::xds {

// Istio's string match: exact, "abc*" prefix, "*abc" suffix, "*" present (non-empty).
bool stringMatches(const weft::v1::Match& match, const std::string& value);
bool anyMatches(const google::protobuf::RepeatedPtrField<weft::v1::Match>& matches, const std::string& value);

// Whether `address` is one of the blocks ("10.0.0.1" or "10.0.0.0/8").
bool addressIn(const google::protobuf::RepeatedPtrField<std::string>& blocks, Ipv4Address address);

// What a peer's SPIFFE identity says about the source, written as Istio writes principals
// (without the scheme: "cluster.local/ns/default/sa/sleep"). Empty for no identity.
struct SourceFacts {
  std::string principal;
  std::string ns;
};
SourceFacts sourceFacts(const std::string& spiffeIdentity);

// Whether a policy's scope (GLOBAL, NAMESPACE, selector) covers a workload in namespace
// `ns` with `labels`.
template <class LabelMap>
bool policyApplies(const weft::v1::Authorization::Scope scope, const std::string& policyNs,
                   const google::protobuf::Map<std::string, std::string>& selector, const std::string& ns, const LabelMap& labels,
                   const std::string& rootNamespace) {
  switch (scope) {
    case weft::v1::Authorization::GLOBAL:
      return policyNs == rootNamespace;
    case weft::v1::Authorization::NAMESPACE:
      return policyNs == ns;
    case weft::v1::Authorization::WORKLOAD_SELECTOR: {
      if (policyNs != ns && policyNs != rootNamespace) return false;
      for (const auto& [key, value] : selector) {
        auto it = labels.find(key);
        if (it == labels.end() || it->second != value) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace weft::xds
