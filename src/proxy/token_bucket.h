#pragma once
// Local (per proxy) rate limiting: a token bucket per (policy, rule, key).
//
// A bucket holds at most `requests` tokens and is refilled continuously at `requests` per
// `unit`, so a full bucket allows a burst of `requests` and then one request every
// unit/requests. A request takes one token or is refused. Time is passed in (steady clock
// instants), never read here, so tests step it without sleeping.
//
// LocalBuckets keeps the buckets of one rule by key, at most kMaxKeys of them: keys are
// client addresses or header values, which a client chooses, so the table must not grow
// without bound. A bucket that has refilled completely is the same as a new one and is
// dropped first; when none is full the least recently used goes (that key starts again
// with a full bucket, which errs towards allowing).
//
// Threads: none; the proxy uses it on its io thread only.

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace weft::proxy {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Limit {
  uint32_t requests = 1;
  std::chrono::seconds unit{1};
};

// The quota after a decision, for the RateLimit-* headers.
struct Quota {
  bool allowed = true;
  uint32_t limit = 0;
  uint32_t remaining = 0;
  std::chrono::seconds reset{0};       // until the quota is whole again (RateLimit-Reset)
  std::chrono::seconds retryAfter{0};  // until the next request would be allowed (Retry-After)
};

class TokenBucket {
 public:
  // Starts full.
  TokenBucket(const Limit& limit, SteadyTime now);

  // Refills up to `now`, then takes one token when there is one.
  Quota take(const Limit& limit, SteadyTime now);
  // Whether the bucket has refilled completely by `now` (then it can be forgotten).
  bool full(const Limit& limit, SteadyTime now) const;

 private:
  void refill(const Limit& limit, SteadyTime now);

  int64_t credit_;  // see token_bucket.cc
  SteadyTime last_;
};

class LocalBuckets {
 public:
  static constexpr size_t kMaxKeys = 100000;

  explicit LocalBuckets(size_t maxKeys = kMaxKeys) : maxKeys_(maxKeys) {}

  Quota take(const std::string& key, const Limit& limit, SteadyTime now);
  size_t size() const { return buckets_.size(); }

 private:
  struct Entry {
    TokenBucket bucket;
    SteadyTime lastUsed;
  };
  void makeRoom(const Limit& limit, SteadyTime now);

  size_t maxKeys_;
  std::unordered_map<std::string, Entry> buckets_;
};

}  // namespace weft::proxy
