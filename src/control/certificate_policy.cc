#include "control/certificate_policy.h"

namespace weft::control {

Status authorizeCertificate(const Caller& caller, const tls::SpiffeId& requested, const std::vector<PodPlacement>& pods) {
  if (caller.kind == Caller::Kind::kWorkload) {
    if (caller.identity == requested) return {};
    return makeError("{} may only renew its own identity, not {}", caller.describe(), requested.uri());
  }
  for (const auto& pod : pods) {
    if (pod.node == caller.node && pod.ns == requested.ns && pod.serviceAccount == requested.serviceAccount) return {};
  }
  return makeError("{} runs no pod with service account {}/{}", caller.describe(), requested.ns, requested.serviceAccount);
}

}  // namespace weft::control
