#pragma once
// Which identities a caller may obtain certificates for, as istiod decides it for ztunnel:
// a node agent only for service accounts of pods scheduled on its own node; a workload
// only for its own identity. Pure: the pods come from the registry.

#include <string>
#include <vector>

#include "base/result.h"
#include "control/caller.h"

namespace weft::control {

struct PodPlacement {
  std::string ns;
  std::string serviceAccount;
  std::string node;
};

// Ok, or the reason the request is refused (for the log and the caller).
Status authorizeCertificate(const Caller& caller, const tls::SpiffeId& requested, const std::vector<PodPlacement>& pods);

}  // namespace weft::control
