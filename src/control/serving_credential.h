#pragma once
// weftd's own TLS certificate for port 15012, signed by the mesh CA with the DNS names
// clients dial (istiod.istio-system.svc and the revision's istiod-<rev>.istio-system.svc),
// as istiod's is.

#include <string>
#include <vector>

#include "base/clock.h"
#include "ca/ca_bundle.h"

namespace weft::control {

struct ServingCredential {
  std::string certChainPem;
  std::string keyPem;
};

std::vector<std::string> controlPlaneDnsNames(const std::string& revision);
Result<ServingCredential> issueServingCredential(const ca::CaBundle& ca, const std::vector<std::string>& dnsNames, const Clock& clock);

}  // namespace weft::control
