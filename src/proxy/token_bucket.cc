#include "proxy/token_bucket.h"

#include <algorithm>

namespace weft::proxy {

namespace {

using std::chrono::microseconds;

// Tokens are kept in integer "credit": one token is worth `unit` in microseconds, and the
// bucket gains `requests` credit per microsecond. Integers make "exactly one token after
// unit/requests" exact (no 0.999... token refusing a request on the dot). The largest
// values (1e9 requests per hour) stay below 2^63: capacity 1e9 * 3.6e9.
int64_t unitMicros(const Limit& limit) { return std::chrono::duration_cast<microseconds>(limit.unit).count(); }

std::chrono::seconds ceilSeconds(int64_t micros) { return std::chrono::seconds((micros + 999999) / 1000000); }

}  // namespace

TokenBucket::TokenBucket(const Limit& limit, SteadyTime now)
    : credit_(static_cast<int64_t>(limit.requests) * unitMicros(limit)), last_(now) {}

void TokenBucket::refill(const Limit& limit, SteadyTime now) {
  if (now <= last_) return;  // a clock that did not move (or a caller's older instant)
  int64_t unit = unitMicros(limit);
  int64_t capacity = static_cast<int64_t>(limit.requests) * unit;
  // More than one unit of idle time refills the bucket whatever it held: clamp first, so
  // the product cannot overflow after a long idle spell.
  int64_t elapsed = std::min(std::chrono::duration_cast<microseconds>(now - last_).count(), unit);
  credit_ = std::min(capacity, std::min(credit_, capacity) + elapsed * static_cast<int64_t>(limit.requests));
  last_ = now;
}

Quota TokenBucket::take(const Limit& limit, SteadyTime now) {
  refill(limit, now);
  int64_t unit = unitMicros(limit);
  int64_t capacity = static_cast<int64_t>(limit.requests) * unit;
  credit_ = std::min(credit_, capacity);  // the policy's limit may have been lowered since
  Quota q;
  q.limit = limit.requests;
  q.allowed = credit_ >= unit;
  if (q.allowed) credit_ -= unit;
  q.remaining = static_cast<uint32_t>(credit_ / unit);
  q.reset = ceilSeconds((capacity - credit_ + limit.requests - 1) / limit.requests);
  if (!q.allowed) q.retryAfter = std::max(std::chrono::seconds(1), ceilSeconds((unit - credit_ + limit.requests - 1) / limit.requests));
  return q;
}

bool TokenBucket::full(const Limit& limit, SteadyTime now) const {
  TokenBucket copy = *this;
  copy.refill(limit, now);
  return copy.credit_ >= static_cast<int64_t>(limit.requests) * unitMicros(limit);
}

Quota LocalBuckets::take(const std::string& key, const Limit& limit, SteadyTime now) {
  auto found = buckets_.find(key);
  if (found == buckets_.end()) {
    if (buckets_.size() >= maxKeys_) makeRoom(limit, now);
    found = buckets_.emplace(key, Entry{TokenBucket(limit, now), now}).first;
  }
  found->second.lastUsed = now;
  return found->second.bucket.take(limit, now);
}

void LocalBuckets::makeRoom(const Limit& limit, SteadyTime now) {
  std::erase_if(buckets_, [&](const auto& entry) { return entry.second.bucket.full(limit, now); });
  if (buckets_.size() < maxKeys_) return;
  auto oldest = std::min_element(buckets_.begin(), buckets_.end(),
                                 [](const auto& a, const auto& b) { return a.second.lastUsed < b.second.lastUsed; });
  buckets_.erase(oldest);
}

}  // namespace weft::proxy
