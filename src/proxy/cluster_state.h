#pragma once
// What the proxy learns about one upstream cluster while it serves: the load balancer's
// position, requests in flight per endpoint, and outlier detection's ejections. Lives as
// long as the proxy (keyed by cluster name), so a config push does not forget an ejection.
// io thread only.
//
// Load balancing (DestinationRule loadBalancer):
//   ROUND_ROBIN     - each endpoint in turn;
//   RANDOM          - uniform;
//   LEAST_REQUEST   - two random endpoints, the one with fewer requests in flight (Envoy's
//                     power of two choices);
//   CONSISTENT_HASH - rendezvous hashing of the request's key over the endpoints, so a key
//                     keeps its endpoint and only 1/n of keys move when one is added or
//                     removed; a request without a key goes to a random endpoint.
// Outlier detection ejects an endpoint after consecutive5xxErrors 5xx answers (connection
// failures, resets and timeouts count as 503/504, as Envoy counts local-origin errors when
// they are not split) or consecutiveGatewayErrors 502/503/504 answers, for
// baseEjectionTime times the number of times it was ejected, never ejecting more than
// maxEjectionPercent of the endpoints (but always allowing one). When every endpoint is
// ejected, all of them are used again (Envoy's panic routing) rather than none.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "proxy/connection_gate.h"
#include "weft/v1/discovery.pb.h"

namespace weft::proxy {

class ClusterState {
 public:
  using Clock = std::chrono::steady_clock;

  // The endpoint for one attempt; `hashKey` is used by CONSISTENT_HASH only.
  const std::string& pick(const weft::v1::Cluster& cluster, std::optional<std::string_view> hashKey, std::minstd_rand& random,
                          Clock::time_point now);

  void started(const std::string& endpoint) { ++endpoints_[endpoint].inFlight; }
  // `status`: the upstream's HTTP status, or 503 for a connection failure or reset and 504
  // for a timeout. Returns true when this result ejected the endpoint.
  bool finished(const weft::v1::Cluster& cluster, const std::string& endpoint, unsigned status, Clock::time_point now);

  bool ejected(const std::string& endpoint, Clock::time_point now) const;
  uint32_t inFlight(const std::string& endpoint) const;
  uint64_t ejections() const { return ejectionsTotal_; }

  ConnectionGate& gate() { return gate_; }

  // Connections relayed as bytes to the cluster now (TCP and TLS-passthrough routes), held
  // to connectionPool.tcp.maxConnections (0: no limit): false when it is reached (Envoy's
  // circuit breaker, flag UO). A relay admitted calls relayEnded() when it ends.
  bool admitRelay(uint32_t maxConnections) {
    if (maxConnections != 0 && relays_ >= maxConnections) return false;
    ++relays_;
    return true;
  }
  void relayEnded() {
    if (relays_ > 0) --relays_;
  }

 private:
  struct Endpoint {
    uint32_t inFlight = 0;
    uint32_t consecutive5xx = 0;
    uint32_t consecutiveGatewayErrors = 0;
    uint32_t timesEjected = 0;
    Clock::time_point ejectedUntil{};
  };

  size_t ejectedAmong(const weft::v1::Cluster& cluster, Clock::time_point now) const;

  uint64_t roundRobin_ = 0;
  uint64_t ejectionsTotal_ = 0;
  uint32_t relays_ = 0;
  std::unordered_map<std::string, Endpoint> endpoints_;
  ConnectionGate gate_;
};

// FNV-1a over the key and the endpoint, finished with a 64-bit mix: stable across runs
// and processes, so every replica of a gateway sends one key to one endpoint.
uint64_t rendezvousScore(std::string_view key, std::string_view endpoint);

}  // namespace weft::proxy
