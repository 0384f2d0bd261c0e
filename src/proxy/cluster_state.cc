#include "proxy/cluster_state.h"

#include <algorithm>
#include <vector>

namespace weft::proxy {

uint64_t rendezvousScore(std::string_view key, std::string_view endpoint) {
  uint64_t h = 1469598103934665603ull;
  auto feed = [&h](std::string_view text) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  feed(key);
  feed(std::string_view("\0", 1));
  feed(endpoint);
  // splitmix64's finaliser: FNV alone clusters on similar endpoint strings.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

bool ClusterState::ejected(const std::string& endpoint, Clock::time_point now) const {
  auto found = endpoints_.find(endpoint);
  return found != endpoints_.end() && found->second.ejectedUntil > now;
}

uint32_t ClusterState::inFlight(const std::string& endpoint) const {
  auto found = endpoints_.find(endpoint);
  return found == endpoints_.end() ? 0 : found->second.inFlight;
}

size_t ClusterState::ejectedAmong(const weft::v1::Cluster& cluster, Clock::time_point now) const {
  return static_cast<size_t>(std::count_if(cluster.endpoints().begin(), cluster.endpoints().end(),
                                           [&](const std::string& e) { return ejected(e, now); }));
}

const std::string& ClusterState::pick(const weft::v1::Cluster& cluster, std::optional<std::string_view> hashKey, std::minstd_rand& random,
                                      Clock::time_point now) {
  std::vector<const std::string*> candidates;
  candidates.reserve(static_cast<size_t>(cluster.endpoints_size()));
  for (const auto& e : cluster.endpoints()) {
    if (!ejected(e, now)) candidates.push_back(&e);
  }
  if (candidates.empty()) {
    for (const auto& e : cluster.endpoints()) candidates.push_back(&e);
  }
  auto uniform = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  switch (cluster.load_balancer().policy()) {
    case weft::v1::LoadBalancer::RANDOM:
      return *candidates[uniform(candidates.size())];
    case weft::v1::LoadBalancer::LEAST_REQUEST: {
      if (candidates.size() == 1) return *candidates.front();
      size_t a = uniform(candidates.size());
      size_t b = uniform(candidates.size() - 1);
      if (b >= a) ++b;  // two distinct endpoints
      return inFlight(*candidates[b]) < inFlight(*candidates[a]) ? *candidates[b] : *candidates[a];
    }
    case weft::v1::LoadBalancer::CONSISTENT_HASH: {
      if (!hashKey) return *candidates[uniform(candidates.size())];
      return **std::max_element(candidates.begin(), candidates.end(), [&](const std::string* x, const std::string* y) {
        return rendezvousScore(*hashKey, *x) < rendezvousScore(*hashKey, *y);
      });
    }
    default:
      return *candidates[roundRobin_++ % candidates.size()];
  }
}

bool ClusterState::finished(const weft::v1::Cluster& cluster, const std::string& endpoint, unsigned status, Clock::time_point now) {
  auto& e = endpoints_[endpoint];
  if (e.inFlight > 0) --e.inFlight;
  if (!cluster.has_outlier_detection()) return false;
  const auto& od = cluster.outlier_detection();
  bool serverError = status >= 500;
  bool gatewayError = status == 502 || status == 503 || status == 504;
  e.consecutive5xx = serverError ? e.consecutive5xx + 1 : 0;
  e.consecutiveGatewayErrors = gatewayError ? e.consecutiveGatewayErrors + 1 : 0;
  bool trip = (od.consecutive_5xx() > 0 && e.consecutive5xx >= od.consecutive_5xx()) ||
              (od.consecutive_gateway_errors() > 0 && e.consecutiveGatewayErrors >= od.consecutive_gateway_errors());
  if (!trip || e.ejectedUntil > now) return false;
  size_t total = static_cast<size_t>(cluster.endpoints_size());
  size_t allowed = std::max<size_t>(1, total * od.max_ejection_percent() / 100);
  if (ejectedAmong(cluster, now) >= allowed) return false;
  ++e.timesEjected;
  ++ejectionsTotal_;
  e.ejectedUntil = now + std::chrono::milliseconds(od.base_ejection_ms()) * e.timesEjected;
  e.consecutive5xx = 0;
  e.consecutiveGatewayErrors = 0;
  return true;
}

}  // namespace weft::proxy
