#pragma once
// When each JWKS source is fetched, and what the registry is told: pure bookkeeping with
// the time passed in, so tests walk hours of refreshes and back-off without sleeping.
// A source is fetched as soon as it is wanted, again every refresh interval after a
// fetch that worked (istiod's PILOT_JWT_PUB_KEY_REFRESH_INTERVAL, 20 minutes), and after
// a failure in a back-off that doubles from one second to the refresh interval.

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "control/jwks_source.h"

namespace weft::control {

struct JwksTiming {
  std::chrono::milliseconds refresh = std::chrono::minutes(20);
  std::chrono::milliseconds firstRetry = std::chrono::seconds(1);
};

class JwksSchedule {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit JwksSchedule(JwksTiming timing = {}) : timing_(timing) {}

  // The sources the registry needs now. New ones are due at once; ones no longer wanted
  // are forgotten (their keys with them). Returns whether results() changed.
  bool want(const std::vector<JwksSource>& sources, TimePoint now);
  // Sources due for a fetch at `now`.
  std::vector<JwksSource> due(TimePoint now) const;
  // The earliest time any source is due; max() when none is wanted.
  TimePoint nextDue() const;
  // The outcome of a fetch begun for `source`. Returns whether results() changed; a
  // source forgotten meanwhile is ignored.
  bool record(const JwksSource& source, const Result<std::string>& jwks, TimePoint now);
  // The sources with a fetch behind them (keys, a failure or both).
  FetchedJwksByKey results() const;

 private:
  struct Entry {
    JwksSource source;
    FetchedJwks fetched;
    TimePoint next;
    int failures = 0;
  };
  JwksTiming timing_;
  std::map<std::string, Entry> entries_;
};

}  // namespace weft::control
