#include "proxy/token_bucket.h"

#include <gtest/gtest.h>

namespace weft::proxy {
namespace {

using namespace std::chrono_literals;

const SteadyTime kStart{std::chrono::hours(1000)};

TEST(TokenBucket, AllowsABurstOfTheLimitThenRefuses) {
  Limit limit{5, 60s};
  TokenBucket bucket(limit, kStart);
  for (uint32_t i = 0; i < 5; ++i) {
    Quota q = bucket.take(limit, kStart);
    EXPECT_TRUE(q.allowed) << i;
    EXPECT_EQ(q.limit, 5u);
    EXPECT_EQ(q.remaining, 4 - i);
    EXPECT_EQ(q.retryAfter, 0s);
  }
  Quota refused = bucket.take(limit, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0u);
  // One token every 12 s; the bucket is whole again after 60 s.
  EXPECT_EQ(refused.retryAfter, 12s);
  EXPECT_EQ(refused.reset, 60s);
}

TEST(TokenBucket, RefillsOneTokenPerUnitOverRequestsExactly) {
  Limit limit{5, 60s};
  TokenBucket bucket(limit, kStart);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(bucket.take(limit, kStart).allowed);
  EXPECT_FALSE(bucket.take(limit, kStart + 11999ms).allowed) << "a microsecond short of a token";
  Quota q = bucket.take(limit, kStart + 12s);
  EXPECT_TRUE(q.allowed) << "exactly one token after 12 s, no rounding loss";
  EXPECT_EQ(q.remaining, 0u);
  EXPECT_FALSE(bucket.take(limit, kStart + 12s).allowed);
  EXPECT_TRUE(bucket.take(limit, kStart + 24s).allowed);
}

TEST(TokenBucket, ALongIdleSpellRefillsToTheLimitOnly) {
  Limit limit{1000000000, 3600s};  // the largest limit the schema accepts
  TokenBucket bucket(limit, kStart);
  ASSERT_TRUE(bucket.take(limit, kStart).allowed);
  Quota q = bucket.take(limit, kStart + std::chrono::hours(24 * 365));
  EXPECT_TRUE(q.allowed);
  EXPECT_EQ(q.remaining, limit.requests - 1) << "capped, no overflow";
  EXPECT_TRUE(bucket.full(limit, kStart + std::chrono::hours(24 * 366)));
}

TEST(TokenBucket, AClockThatGoesBackRefillsNothing) {
  Limit limit{1, 1s};
  TokenBucket bucket(limit, kStart);
  ASSERT_TRUE(bucket.take(limit, kStart).allowed);
  EXPECT_FALSE(bucket.take(limit, kStart - 10s).allowed);
  EXPECT_TRUE(bucket.take(limit, kStart + 1s).allowed);
}

TEST(TokenBucket, ALoweredLimitCapsWhatIsLeft) {
  TokenBucket bucket(Limit{10, 1s}, kStart);
  Quota q = bucket.take(Limit{2, 1s}, kStart);
  EXPECT_TRUE(q.allowed);
  EXPECT_EQ(q.remaining, 1u);
  EXPECT_EQ(q.limit, 2u);
}

TEST(TokenBucket, PerSecondAndPerHourUnits) {
  Limit perSecond{2, 1s};
  TokenBucket a(perSecond, kStart);
  EXPECT_TRUE(a.take(perSecond, kStart).allowed);
  EXPECT_TRUE(a.take(perSecond, kStart).allowed);
  Quota refused = a.take(perSecond, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retryAfter, 1s) << "Retry-After is never 0 on a refusal";
  EXPECT_TRUE(a.take(perSecond, kStart + 500ms).allowed);

  Limit perHour{1, 3600s};
  TokenBucket b(perHour, kStart);
  EXPECT_TRUE(b.take(perHour, kStart).allowed);
  Quota later = b.take(perHour, kStart + 1800s);
  EXPECT_FALSE(later.allowed);
  EXPECT_EQ(later.retryAfter, 1800s);
}

TEST(LocalBuckets, EachKeyHasItsOwnBucket) {
  LocalBuckets buckets;
  Limit limit{1, 60s};
  EXPECT_TRUE(buckets.take("10.0.0.1", limit, kStart).allowed);
  EXPECT_FALSE(buckets.take("10.0.0.1", limit, kStart).allowed);
  EXPECT_TRUE(buckets.take("10.0.0.2", limit, kStart).allowed);
  EXPECT_EQ(buckets.size(), 2u);
}

TEST(LocalBuckets, BoundedByDroppingFullBucketsFirst) {
  LocalBuckets buckets(2);
  Limit limit{1, 10s};
  ASSERT_TRUE(buckets.take("a", limit, kStart).allowed);
  ASSERT_TRUE(buckets.take("b", limit, kStart + 5s).allowed);
  // At 11 s "a" has refilled (and is forgotten), "b" has not: "b" stays refused.
  ASSERT_TRUE(buckets.take("c", limit, kStart + 11s).allowed);
  EXPECT_EQ(buckets.size(), 2u);
  EXPECT_FALSE(buckets.take("b", limit, kStart + 11s).allowed);
}

TEST(LocalBuckets, BoundedByDroppingTheLeastRecentlyUsedWhenNoneIsFull) {
  LocalBuckets buckets(2);
  Limit limit{1, 3600s};
  ASSERT_TRUE(buckets.take("a", limit, kStart).allowed);
  ASSERT_TRUE(buckets.take("b", limit, kStart + 1s).allowed);
  ASSERT_FALSE(buckets.take("a", limit, kStart + 2s).allowed);  // "a" used last now
  ASSERT_TRUE(buckets.take("c", limit, kStart + 3s).allowed);   // "b" goes
  EXPECT_EQ(buckets.size(), 2u);
  EXPECT_FALSE(buckets.take("a", limit, kStart + 4s).allowed) << "a is still remembered";
  EXPECT_TRUE(buckets.take("b", limit, kStart + 5s).allowed) << "b was forgotten: a new, full bucket";
}

}  // namespace
}  // namespace weft::proxy
