// Push latency: buckets like Prometheus', and quantiles estimated the way
// histogram_quantile estimates them.

#include "control/discovery/latency_histogram.h"

#include <gtest/gtest.h>

namespace weft::control::discovery {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(LatencyHistogram, EmptyHasNoQuantiles) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.quantileSeconds(0.5), 0.0);
}

TEST(LatencyHistogram, CountsAreCumulativeByUpperBound) {
  LatencyHistogram histogram;
  histogram.record(microseconds(50));          // <= 0.0001
  histogram.record(microseconds(100));         // <= 0.0001: bounds are inclusive, as `le` is
  histogram.record(milliseconds(3));           // <= 0.005
  histogram.record(std::chrono::seconds(60));  // +Inf
  auto cumulative = histogram.cumulativeCounts();
  ASSERT_EQ(cumulative.size(), LatencyHistogram::kBounds.size() + 1);
  EXPECT_EQ(cumulative[0], 2u);
  EXPECT_EQ(cumulative[4], 2u);  // le 0.0025
  EXPECT_EQ(cumulative[5], 3u);  // le 0.005
  EXPECT_EQ(cumulative[LatencyHistogram::kBounds.size() - 1], 3u);
  EXPECT_EQ(cumulative.back(), 4u);
  EXPECT_EQ(histogram.count(), 4u);
  EXPECT_NEAR(histogram.sumSeconds(), 60.00315, 1e-9);
}

TEST(LatencyHistogram, QuantilesInterpolateInsideTheirBucket) {
  LatencyHistogram histogram;
  // 100 observations spread evenly over (1 ms, 2.5 ms]: one bucket.
  for (int i = 1; i <= 100; ++i) histogram.record(microseconds(1000 + 15 * i));
  EXPECT_NEAR(histogram.quantileSeconds(0.5), 0.00175, 1e-9);
  EXPECT_NEAR(histogram.quantileSeconds(0.99), 0.002485, 1e-9);
  // A slow tail lands in its own bucket, and p99 finds it.
  for (int i = 0; i < 10; ++i) histogram.record(milliseconds(400));
  EXPECT_GT(histogram.quantileSeconds(0.99), 0.25);
  EXPECT_LE(histogram.quantileSeconds(0.99), 0.5);
  EXPECT_LT(histogram.quantileSeconds(0.5), 0.0025);
}

TEST(LatencyHistogram, BeyondTheLastBoundAnswersTheLastBound) {
  LatencyHistogram histogram;
  histogram.record(std::chrono::seconds(30));
  EXPECT_EQ(histogram.quantileSeconds(0.99), LatencyHistogram::kBounds.back());
}

}  // namespace
}  // namespace weft::control::discovery
