#pragma once
// The credential this ztunnel shows weftd: the client certificate `weft install` issued
// to its node (URI SAN weft://node/<node>), from a kubernetes.io/tls Secret, with the mesh
// root that weftd's serving certificate chains to.

#include <filesystem>
#include <string>

#include "base/result.h"

namespace weft::ztunnel {

struct NodeCredential {
  std::string certChainPem;  // leaf first; the root last
  std::string keyPem;
  std::string rootPem;       // the last certificate of the chain: what weftd must chain to
};

Result<NodeCredential> loadNodeCredential(const std::filesystem::path& store, const std::string& secretName);

}  // namespace weft::ztunnel
