#pragma once
// weftd's JWKS fetcher, as istiod's: one thread fetches every source the registry wants
// (control/jwks_source.h) on the schedule of control/jwks_schedule.h, checks the answer is
// a JWKS, and signals an eventfd when what the registry would inline changed, so weftd's
// loop rebuilds and pushes the keys to the proxies. Fetches never block weftd's loop.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "control/jwks_schedule.h"
#include "control/url_fetch.h"

namespace weft::control {

// One source's keys: its jwksUri, or the jwks_uri its issuer's discovery document names;
// an error unless the answer is a JSON object with a "keys" array.
Result<std::string> fetchJwks(const JwksSource& source, const FetchLimits& limits);

class JwksResolver {
 public:
  struct Settings {
    JwksTiming timing;
    FetchLimits limits;  // its timeout is replaced by each rule's
  };

  // From istiod's environment variables, as weftd reads them: the refresh interval
  // (PILOT_JWT_PUB_KEY_REFRESH_INTERVAL, a duration; empty: 20m) and the blocked ranges
  // (BLOCKED_CIDRS_IN_JWKS_URIS, comma-separated CIDRs). Either one malformed is an error
  // naming it, and weftd does not start.
  static Result<Settings> fromEnvironment(const char* refreshInterval, const char* blockedCidrs);

  explicit JwksResolver(Settings settings);
  ~JwksResolver();
  JwksResolver(const JwksResolver&) = delete;
  JwksResolver& operator=(const JwksResolver&) = delete;

  // The sources of the latest registry build.
  void want(const std::vector<JwksSource>& sources);
  FetchedJwksByKey results() const;
  // Readable when results() changed; takeChange() clears it.
  int changedFd() const { return changed_; }
  void takeChange();

  uint64_t fetchesSucceeded() const { return succeeded_; }
  uint64_t fetchesFailed() const { return failed_; }

 private:
  void run();
  void signalChange();

  Settings settings_;
  int changed_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  JwksSchedule schedule_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> succeeded_{0};
  std::atomic<uint64_t> failed_{0};
  std::thread worker_;
};

}  // namespace weft::control
