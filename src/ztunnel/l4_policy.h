#pragma once
// L4 authorization at the destination, with ztunnel's semantics
// (../shared/reference/hbone-and-ztunnel.md §4): the policies that apply to a workload are
// the global ones (root namespace), its namespace's, and those whose selector matches it;
// any matching DENY denies; with no ALLOW the connection is allowed; otherwise some ALLOW
// must match. PeerAuthentication STRICT denies connections without a mesh identity.
// A pure function of the snapshot and the connection: unit-tested without sockets.

#include <optional>
#include <string>

#include "base/ipv4.h"
#include "weft/v1/discovery.pb.h"
#include "ztunnel/config_snapshot.h"

namespace weft::ztunnel {

struct L4Connection {
  // The peer's verified SPIFFE identity ("spiffe://td/ns/x/sa/y"); empty for plaintext.
  std::string sourceIdentity;
  Ipv4Address sourceAddress;
  Ipv4Address destinationAddress;
  uint32_t destinationPort = 0;
};

struct L4Decision {
  bool allowed = true;
  std::string policy;  // "<ns>/<name>" of the deciding policy, empty when none decided
  std::string reason;  // for the access log and the denial counter
};

L4Decision evaluateL4Policy(const ConfigSnapshot& config, const weft::v1::Workload& destination, const L4Connection& connection);

// The effective PeerAuthentication mode for a workload and port (workload selector over
// namespace over mesh-wide; port-level over the workload's); PERMISSIVE when none says.
weft::v1::Authorization::MtlsMode effectiveMtlsMode(const ConfigSnapshot& config, const weft::v1::Workload& destination, uint32_t port);

bool isPeerAuthentication(const weft::v1::Authorization& policy);

}  // namespace weft::ztunnel
