#pragma once
// How a data plane (ztunnel, and for now the gateway proxy) authenticates to weftd: the
// client certificate `weft install` issued to its node (URI SAN weft://node/<node>), read
// from a kubernetes.io/tls Secret, with the mesh root weftd's serving certificate chains
// to; and the gRPC channel to weftd made with it.

#include <filesystem>
#include <string>

#include <memory>

#include <grpcpp/grpcpp.h>

#include "base/result.h"

namespace weft::xds {

struct NodeCredential {
  std::string certChainPem;  // leaf first; the root last
  std::string keyPem;
  std::string rootPem;       // the last certificate of the chain: what weftd must chain to
};

Result<NodeCredential> loadNodeCredential(const std::filesystem::path& store, const std::string& secretName);

// A channel of its own (not shared with other channels' connections, so discovery's long
// stream and certificate calls never queue behind each other), reconnecting quickly.
std::shared_ptr<grpc::Channel> controlPlaneChannel(const std::string& target, const NodeCredential& credential);

}  // namespace weft::xds
