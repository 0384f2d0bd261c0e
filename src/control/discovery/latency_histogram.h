#pragma once
// A fixed-bucket latency histogram in Prometheus' shape (cumulative `le` buckets, sum,
// count), recorded with relaxed atomics so any number of stream threads record without a
// lock, and read at any time by the metrics endpoint or a benchmark.
//
// Quantiles are estimated as Prometheus' histogram_quantile does: linear interpolation
// inside the bucket that holds the rank. Their error is bounded by bucket width, which is
// why the buckets are dense (1-2.5-5 per decade) from 100 µs to 10 s.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

namespace weft::control::discovery {

class LatencyHistogram {
 public:
  // Upper bounds in seconds; a last, implicit +Inf bucket catches the rest.
  static constexpr std::array<double, 16> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};

  void record(std::chrono::nanoseconds latency);

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sumSeconds() const;
  // Observations at or below each bound, cumulative, then the total (the +Inf bucket).
  std::vector<uint64_t> cumulativeCounts() const;
  // The estimated q-quantile (0 < q < 1) in seconds; 0 when nothing was recorded. Past the
  // last bound the answer is the last bound, as Prometheus answers.
  double quantileSeconds(double q) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sumNanoseconds_{0};
};

}  // namespace weft::control::discovery
