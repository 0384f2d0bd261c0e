#pragma once
// When each JWKS source is fetched, and what the registry is told: pure bookkeeping with
// the time passed in, so tests walk days of refreshes and back-off without sleeping.
// A source is fetched as soon as it is wanted (before any refresh), again every refresh
// interval after a fetch that worked (istiod's PILOT_JWT_PUB_KEY_REFRESH_INTERVAL, 20
// minutes), and after a failure in a back-off that doubles from one second up to the
// refresh interval. Keys fetched once stay through failed refreshes, for at most
// `evictAfter` (istiod's seven days) after the last fetch that worked.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "control/jwks_source.h"

namespace weft::control {

struct JwksTiming {
  std::chrono::milliseconds refresh = std::chrono::minutes(20);
  std::chrono::milliseconds firstRetry = std::chrono::seconds(1);
  std::chrono::milliseconds evictAfter = std::chrono::hours(24 * 7);
};

class JwksSchedule {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit JwksSchedule(JwksTiming timing = {}) : timing_(timing) {}

  // The sources the registry needs now. New ones are due at once; ones no longer wanted
  // are forgotten (their keys with them). Returns whether results() changed.
  bool want(const std::vector<JwksSource>& sources, TimePoint now);
  // One fetch handed out: the source and which incarnation of its entry it is for, so a
  // fetch begun before its rule was removed and re-added cannot speak for the new entry.
  struct Taken {
    JwksSource source;
    uint64_t generation = 0;
  };
  // A source due at `now` and not being fetched, sources never attempted first; it is
  // then being fetched until record() is called for it.
  std::optional<Taken> take(TimePoint now);
  // The earliest time a source not being fetched is due; max() when there is none.
  TimePoint nextDue() const;
  // The outcome of a fetch taken for `source`. Returns whether what the registry inlines
  // changed (the keys, or whether there is a failure to note); a changed failure text alone
  // is not a change, so a source failing again and again causes no rebuilds. A source
  // forgotten meanwhile (or forgotten and wanted again) is ignored.
  bool record(const Taken& taken, const Result<std::string>& jwks, TimePoint now);
  // The sources with a fetch behind them (keys, a failure or both): a source has an entry
  // here once its first fetch ended.
  FetchedJwksByKey results() const;

 private:
  struct Entry {
    JwksSource source;
    FetchedJwks fetched;
    TimePoint next;
    TimePoint lastSuccess{};
    int failures = 0;
    bool inFlight = false;
    bool everAttempted = false;
    uint64_t generation = 0;
  };
  JwksTiming timing_;
  uint64_t generations_ = 0;
  std::map<std::string, Entry> entries_;
};

}  // namespace weft::control
