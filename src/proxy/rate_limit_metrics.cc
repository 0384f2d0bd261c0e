#include "proxy/rate_limit_metrics.h"

#include <fmt/format.h>

namespace weft::proxy {

namespace {

// Prometheus label values escape backslash, quote and newline.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

void RateLimitMetrics::limited(const std::string& policy, const std::string& rule, bool global) {
  std::lock_guard lock(mutex_);
  ++limited_[{policy, rule, global ? "global" : "local"}];
}

void RateLimitMetrics::redisError(const std::string& address, const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++redisErrors_[{address, reason}];
}

void RateLimitMetrics::failureModeAllowed(const std::string& address) {
  std::lock_guard lock(mutex_);
  ++failureModeAllowed_[address];
}

std::string RateLimitMetrics::prometheusText() const {
  std::lock_guard lock(mutex_);
  std::string out =
      "# HELP weft_ratelimit_limited_total Requests refused with 429 by a rate limit.\n"
      "# TYPE weft_ratelimit_limited_total counter\n";
  for (const auto& [key, n] : limited_) {
    const auto& [policy, rule, mode] = key;
    out += fmt::format("weft_ratelimit_limited_total{{policy=\"{}\",rule=\"{}\",mode=\"{}\"}} {}\n", escape(policy), escape(rule), mode, n);
  }
  out +=
      "# HELP weft_ratelimit_redis_errors_total Redis calls of global rate limits that failed.\n"
      "# TYPE weft_ratelimit_redis_errors_total counter\n";
  for (const auto& [key, n] : redisErrors_) {
    out += fmt::format("weft_ratelimit_redis_errors_total{{address=\"{}\",reason=\"{}\"}} {}\n", escape(key.first), escape(key.second), n);
  }
  out +=
      "# HELP weft_ratelimit_failure_mode_allowed_total Requests allowed because Redis failed (fail open).\n"
      "# TYPE weft_ratelimit_failure_mode_allowed_total counter\n";
  for (const auto& [address, n] : failureModeAllowed_) {
    out += fmt::format("weft_ratelimit_failure_mode_allowed_total{{address=\"{}\"}} {}\n", escape(address), n);
  }
  return out;
}

uint64_t RateLimitMetrics::limitedCount(const std::string& policy, const std::string& rule) const {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const auto& [key, n] : limited_) {
    if (std::get<0>(key) == policy && std::get<1>(key) == rule) total += n;
  }
  return total;
}

uint64_t RateLimitMetrics::redisErrorCount(const std::string& reason) const {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const auto& [key, n] : redisErrors_) {
    if (key.second == reason) total += n;
  }
  return total;
}

uint64_t RateLimitMetrics::failureModeAllowedCount() const {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const auto& [address, n] : failureModeAllowed_) total += n;
  return total;
}

}  // namespace weft::proxy
