#pragma once
// The rate-limit part of the proxy's snapshot: the weft.v1.RateLimitPolicy resources weftd
// sends (src/control/rate_limit_view.h), checked and flattened into rules. Immutable once
// built and pinned with the ProxyConfig that holds it; a resource that does not check
// (unknown unit, no requests, a global rule without a usable Redis address) fails the
// build, so the response is NACKed and the previous snapshot keeps limiting.
//
// Which rules apply to a request is decided by what the proxy knows of it: the Istio
// Gateway whose listener it came through and the Services its route sends to.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "proxy/token_bucket.h"
#include "weft/v1/discovery.pb.h"

namespace weft::proxy {

inline constexpr const char* kRateLimitPolicyType = "weft.v1.RateLimitPolicy";

struct RateLimitRule {
  std::string policy;  // "<ns>/<name>"
  std::string name;
  weft::v1::RateLimitRule::Key key = weft::v1::RateLimitRule::CLIENT_ADDRESS;
  std::string header;  // lower case, for HEADER
  Limit limit;
  bool global = false;
  std::string redisHost, redisPort;  // global only
};

class RateLimitTable {
 public:
  static Result<std::shared_ptr<const RateLimitTable>> build(const std::map<std::string, weft::v1::Resource>& resources);
  static std::shared_ptr<const RateLimitTable> empty();

  // The rules of every policy that targets `gateway` ("<ns>/<name>") or one of `services`
  // (hostnames), in policy-name order, each rule once.
  std::vector<const RateLimitRule*> rulesFor(std::string_view gateway, const std::vector<std::string>& services) const;
  bool none() const { return policies_.empty(); }

 private:
  struct Policy {
    std::vector<std::string> gateways, services;
    std::vector<RateLimitRule> rules;
  };
  std::vector<Policy> policies_;
};

// "host:port", "[v6]:port" -> host, port; an error naming the address otherwise.
Result<std::pair<std::string, std::string>> splitHostPort(std::string_view address);

}  // namespace weft::proxy
