#pragma once
// VirtualService fault injection: which of a route's faults this request gets. Each fault
// is drawn on its own, so with delay 50% and abort 50% a quarter of requests get both,
// as in Envoy's fault filter.

#include <cstdint>
#include <optional>
#include <random>

#include "weft/v1/discovery.pb.h"

namespace weft::proxy {

struct FaultDecision {
  uint32_t delayMs = 0;      // 0: no delay
  uint32_t abortStatus = 0;  // 0: no abort
  std::optional<uint32_t> abortGrpcStatus;  // abort.grpcStatus: a gRPC answer with this status
};

FaultDecision decideFault(const weft::v1::FaultPolicy& fault, std::minstd_rand& random);

// Whether an event of `percent` (0-100, fractions allowed) happens on this draw.
bool drawPercent(double percent, std::minstd_rand& random);

}  // namespace weft::proxy
