#include "proxy/fault_injection.h"

namespace weft::proxy {

bool drawPercent(double percent, std::minstd_rand& random) {
  if (percent >= 100.0) return true;
  if (percent <= 0.0) return false;
  // A million buckets, as Envoy's FractionalPercent MILLION denominator.
  uint32_t bucket = std::uniform_int_distribution<uint32_t>(0, 999'999)(random);
  return bucket < static_cast<uint32_t>(percent * 10'000.0);
}

FaultDecision decideFault(const weft::v1::FaultPolicy& fault, std::minstd_rand& random) {
  FaultDecision decision;
  if (fault.delay_ms() > 0 && drawPercent(fault.delay_percent(), random)) decision.delayMs = fault.delay_ms();
  if (fault.abort_grpc() && drawPercent(fault.abort_percent(), random)) {
    decision.abortGrpcStatus = fault.abort_grpc_status();
  } else if (fault.abort_status() > 0 && drawPercent(fault.abort_percent(), random)) {
    decision.abortStatus = fault.abort_status();
  }
  return decision;
}

}  // namespace weft::proxy
