#include "control/discovery/latency_histogram.h"

#include <algorithm>

namespace weft::control::discovery {

void LatencyHistogram::record(std::chrono::nanoseconds latency) {
  double seconds = std::chrono::duration<double>(latency).count();
  size_t bucket = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sumNanoseconds_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(latency.count(), 0)), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

double LatencyHistogram::sumSeconds() const {
  return static_cast<double>(sumNanoseconds_.load(std::memory_order_relaxed)) / 1e9;
}

std::vector<uint64_t> LatencyHistogram::cumulativeCounts() const {
  std::vector<uint64_t> cumulative;
  cumulative.reserve(buckets_.size());
  uint64_t running = 0;
  for (const auto& bucket : buckets_) {
    running += bucket.load(std::memory_order_relaxed);
    cumulative.push_back(running);
  }
  return cumulative;
}

double LatencyHistogram::quantileSeconds(double q) const {
  // Read the buckets once and work from that copy: concurrent records may make it a little
  // behind, never inconsistent with itself.
  std::vector<uint64_t> cumulative = cumulativeCounts();
  uint64_t total = cumulative.back();
  if (total == 0) return 0;
  double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  size_t bucket = 0;
  while (bucket < cumulative.size() && static_cast<double>(cumulative[bucket]) < rank) ++bucket;
  if (bucket >= kBounds.size()) return kBounds.back();
  double lower = bucket == 0 ? 0.0 : kBounds[bucket - 1];
  double upper = kBounds[bucket];
  uint64_t below = bucket == 0 ? 0 : cumulative[bucket - 1];
  uint64_t inBucket = cumulative[bucket] - below;
  if (inBucket == 0) return upper;
  return lower + (upper - lower) * (rank - static_cast<double>(below)) / static_cast<double>(inBucket);
}

}  // namespace weft::control::discovery
