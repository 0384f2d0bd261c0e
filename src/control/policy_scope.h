#pragma once
// Where a security.istio.io policy applies, as Istio reads it: a selector's matchLabels
// make it a workload policy in its namespace; without, it covers its namespace, or the
// whole mesh from the root namespace. Authorization, HttpAuthorization and
// JwtAuthentication carry the same scope fields.

#include <string>

#include "model/json_access.h"
#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

template <class Policy>
void setScope(const model::Object& policy, const std::string& rootNamespace, Policy& out) {
  const auto& labels = model::at(policy.value(), {"spec", "selector", "matchLabels"});
  if (labels.is_object() && !labels.get_object().empty()) {
    out.set_scope(weft::v1::Authorization::WORKLOAD_SELECTOR);
    for (const auto& [k, v] : labels.get_object()) {
      if (v.is_string()) (*out.mutable_selector())[std::string(k)] = std::string(v.get_string());
    }
  } else {
    out.set_scope(policy.ns() == rootNamespace ? weft::v1::Authorization::GLOBAL : weft::v1::Authorization::NAMESPACE);
  }
}

}  // namespace weft::control
