#pragma once
// weftd's JWKS fetcher, as istiod's: a few threads fetch every source the registry wants
// (control/jwks_source.h) on the schedule of control/jwks_schedule.h, check the answer is
// a JWKS, and signal an eventfd when what the registry would inline changed, so weftd's
// loop rebuilds and pushes the keys to the proxies. Fetches never block weftd's loop, and
// one slow identity provider holds one thread, not everyone's keys.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "control/jwks_schedule.h"
#include "control/url_fetch.h"

namespace weft::control {

// GETs that worked and failed (istiod's pilot_jwks_resolver_network_fetch_*_total: a
// discovery document and its JWKS are two).
struct FetchCounts {
  std::atomic<uint64_t> succeeded{0};
  std::atomic<uint64_t> failed{0};
};

// One source's keys: its jwksUri, or the jwks_uri its issuer's discovery document names;
// an error unless the answer is a JSON object with a "keys" array.
Result<std::string> fetchJwks(const JwksSource& source, const FetchLimits& limits, FetchCounts* counts = nullptr);

class JwksResolver {
 public:
  struct Settings {
    JwksTiming timing;
    FetchLimits limits;  // its timeout is replaced by each rule's
    int threads = 4;
    std::vector<std::string> warnings;  // what fromEnvironment skipped, for weftd's log
  };

  // From istiod's environment variables, as istiod reads them: the refresh interval
  // (PILOT_JWT_PUB_KEY_REFRESH_INTERVAL, a duration; unset or malformed: 20m) and the
  // blocked ranges (BLOCKED_CIDRS_IN_JWKS_URIS, comma-separated IPv4 or IPv6 CIDRs or
  // addresses; a malformed entry is skipped). What was skipped is in `warnings`.
  static Settings fromEnvironment(const char* refreshInterval, const char* blockedCidrs);

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

  uint64_t fetchesSucceeded() const { return counts_.succeeded; }
  uint64_t fetchesFailed() const { return counts_.failed; }

 private:
  void run();
  void signalChange();

  Settings settings_;
  int changed_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  JwksSchedule schedule_;
  std::atomic<bool> stopping_{false};
  FetchCounts counts_;
  std::vector<std::thread> workers_;
};

}  // namespace weft::control
