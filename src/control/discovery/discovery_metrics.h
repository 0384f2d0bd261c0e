#pragma once
// Everything the discovery server counts, in one place, as plain atomics that weftd's
// metrics endpoint reads without locking. Counters only grow; connectedClients is a gauge.

#include <atomic>
#include <cstdint>

#include "control/discovery/latency_histogram.h"

namespace weft::control::discovery {

struct DiscoveryMetrics {
  std::atomic<int64_t> connectedClients{0};  // streams past their first request, not yet ended
  std::atomic<uint64_t> refusedStreams{0};   // ended with INVALID_ARGUMENT for a bad request
  std::atomic<uint64_t> pushes{0};           // responses written
  std::atomic<uint64_t> resourcesSent{0};    // resources in those responses (removals not counted)
  std::atomic<uint64_t> removalsSent{0};     // names in their removed_resources
  std::atomic<uint64_t> acks{0};
  std::atomic<uint64_t> nacks{0};
  std::atomic<uint64_t> staleNonces{0};  // answers to a nonce that was not the latest
  // From publish() to the write of that snapshot's responses, once per stream that had
  // something to receive from it.
  LatencyHistogram pushLatency;
};

}  // namespace weft::control::discovery
