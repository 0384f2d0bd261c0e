#pragma once
// A node agent's credential: a client certificate whose only SAN is the URI
// weft://node/<node name>, signed by the mesh CA. `weft install` issues one per node.
// weftd believes the node name in it because only the CA can have signed it; with it a
// ztunnel may obtain certificates for the identities of pods on its own node, nothing else.

#include <chrono>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "ca/ca_bundle.h"

namespace weft::control {

inline constexpr std::string_view kNodeUriPrefix = "weft://node/";
inline constexpr std::chrono::seconds kNodeCredentialTtl = std::chrono::hours(24 * 365);

struct NodeCredential {
  std::string certChainPem;  // leaf then the CA chain
  std::string keyPem;
};

Result<NodeCredential> issueNodeCredential(const ca::CaBundle& ca, const std::string& node, const Clock& clock);

}  // namespace weft::control
