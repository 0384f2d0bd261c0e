#pragma once
// Where an outbound connection goes (the decision only; no sockets): from the original
// destination a pod dialled to a service's endpoint (or its waypoint), a mesh workload, a
// plain-TCP destination, or a refusal under REGISTRY_ONLY. Pure, so unit tests cover every
// branch (reference §4.3 and ARCHITECTURE.md "The L4 path").

#include <cstdint>
#include <string>
#include <vector>

#include "base/ipv4.h"
#include "ztunnel/config_snapshot.h"

namespace weft::ztunnel {

struct OutboundRoute {
  enum class Kind {
    kHbone,        // mTLS HBONE to the destination's ztunnel (or waypoint) on 15008
    kPassthrough,  // plain TCP to the destination as dialled (not in the mesh / ALLOW_ANY)
    kRefused,      // nowhere to send it: REGISTRY_ONLY, or a service without endpoints
  };
  Kind kind = Kind::kRefused;
  Ipv4Address address;  // where to connect: endpoint or waypoint IP (15008 for HBONE), else the destination
  uint32_t port = 0;    // the port to dial for passthrough; the target port inside :authority for HBONE
  std::string authority;                    // HBONE :authority, "ip:port"
  std::vector<std::string> expectedIdentities;  // SPIFFE IDs the HBONE server may present
  const weft::v1::Workload* workload = nullptr;  // the destination workload, when known
  const ServiceView* service = nullptr;          // the service dialled, when one was
  std::string responseFlag;  // for refusals: "NR" (no route), "UH" (no healthy upstream)
  std::string reason;        // for the log
};

// `pick` chooses among healthy endpoints (a counter the caller advances, for round robin).
OutboundRoute routeOutbound(const ConfigSnapshot& config, Ipv4Address destination, uint32_t port, uint64_t pick);

}  // namespace weft::ztunnel
