#pragma once
// The rate limiter's counters, on the gateway's /stats/prometheus beside istio_requests_*:
//
//   weft_ratelimit_limited_total{policy,rule,mode}     requests answered 429
//   weft_ratelimit_redis_errors_total{address,reason}  Redis calls that failed (reason:
//                                                      unavailable, timeout, protocol, closed)
//   weft_ratelimit_failure_mode_allowed_total{address} requests allowed because Redis failed
//                                                      (Envoy's ratelimit.failure_mode_allowed)
//
// Thread-safe: recorded on the io thread, scraped on the admin thread.

#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace weft::proxy {

class RateLimitMetrics {
 public:
  void limited(const std::string& policy, const std::string& rule, bool global);
  void redisError(const std::string& address, const std::string& reason);
  void failureModeAllowed(const std::string& address);
  std::string prometheusText() const;

  // For tests.
  uint64_t limitedCount(const std::string& policy, const std::string& rule) const;
  uint64_t redisErrorCount(const std::string& reason) const;
  uint64_t failureModeAllowedCount() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> limited_;  // policy, rule, mode
  std::map<std::pair<std::string, std::string>, uint64_t> redisErrors_;           // address, reason
  std::map<std::string, uint64_t> failureModeAllowed_;                             // address
};

}  // namespace weft::proxy
