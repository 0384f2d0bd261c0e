#pragma once
// What a rate-limit rule counts a request under: its client address, a header's value or
// its principal. Pure: the server describes the request (RequestFacts), the rule picks.
//
// As Envoy's descriptors do, a request that lacks what a rule keys on (no such header, no
// principal) is not limited by that rule. The client address is the TCP peer's, never
// X-Forwarded-For, which any client can write (Envoy's default of no trusted hops).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/rate_limit_config.h"

namespace weft::proxy {

struct RequestFacts {
  std::string clientAddress;  // the downstream peer's IP address
  std::string principal;      // its SPIFFE identity; empty when it showed none (plaintext)
  // A header's first value by lower-case name.
  std::function<std::optional<std::string_view>(std::string_view lowerName)> header;
};

// The rule's key for this request; nullopt when the rule does not apply to it.
std::optional<std::string> rateLimitKey(const RateLimitRule& rule, const RequestFacts& facts);

// The local bucket table of a rule: "<policy>/<rule>".
std::string ruleId(const RateLimitRule& rule);

// The Redis counter of `key` for the fixed window `window` (unix time / unit):
// "weft:rl:<ns>/<policy>:<rule>:<unit s>:<window>:<key>". Policy and rule names cannot hold
// ':' (DNS names), and the key, which can, comes last, so two counters never share a name.
std::string redisCounterKey(const RateLimitRule& rule, std::string_view key, int64_t window);

}  // namespace weft::proxy
