#pragma once
// The rate-limit decision for one request, made in GatewayServer::handle before the
// request is forwarded (docs/proxy.md, "Rate limits").
//
// - Local rules (mode local) take a token from their bucket in this proxy
//   (proxy/token_bucket.h). They are checked first, in order; the first without a token
//   refuses the request, and Redis is not asked. (Rules checked before it have spent their
//   token, as with Envoy's local rate limit filter.)
// - Global rules (mode global) count the request in Redis, shared by every proxy: a fixed
//   window per key, `INCR weft:rl:<policy>:<rule>:<unit>:<window>:<key>` and `PEXPIRE` to
//   the window's end (plus 1 s of slack for clocks) in one pipeline per Redis address. The
//   window is the proxy's wall clock divided by the unit, so replicas agree as far as their
//   clocks do. A count above the limit refuses the request; every request is counted,
//   refused or not.
// - Fail open: when Redis cannot be reached, times out or answers something unexpected,
//   its rules allow the request, and the failure is counted (metrics) and logged (at most
//   once per 10 s), as Envoy's ratelimit filter does with failure_mode_deny=false.
//
// Threads: io thread only; the metrics may be read from any thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "proxy/proxy_config.h"
#include "proxy/rate_limit_config.h"
#include "proxy/rate_limit_key.h"
#include "proxy/rate_limit_metrics.h"
#include "proxy/redis_client.h"
#include "proxy/token_bucket.h"

namespace weft::proxy {

// What one request asks of the limiter. Owns what it holds (the table pins the rules), so
// it can cross co_await.
struct RateLimitCheck {
  struct Item {
    const RateLimitRule* rule;
    std::string key;
  };
  std::shared_ptr<const RateLimitTable> table;
  std::vector<Item> items;
};

// The rules of `table` that apply to a request through `gateway` routed to `services`,
// each with the request's key (rules whose key the request lacks are left out).
RateLimitCheck rateLimitCheck(std::shared_ptr<const RateLimitTable> table, std::string_view gateway,
                              const std::vector<std::string>& services, const RequestFacts& facts);

// The same for the gateway's request: its virtual host's Gateway, the Services of its
// route's clusters, the peer's address and, over MUTUAL TLS, its client certificate's
// SPIFFE ID (`principal`, empty otherwise). The server's one call.
RateLimitCheck rateLimitCheck(const ProxyConfig& config, const CompiledVirtualHost& vhost, const CompiledRoute& route,
                              const boost::beast::http::request_header<>& request, const std::string& peer,
                              const std::string& principal = "");

struct RateLimitVerdict {
  bool limited = false;
  bool global = false;         // limited by a global rule (Envoy's body differs)
  std::optional<Quota> quota;  // the limiting rule's, else the applicable one nearest its limit
};

// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (the IETF draft's fields, as
// Envoy's DRAFT_VERSION_03 writes them), when any rule applied.
void addRateLimitHeaders(boost::beast::http::fields& fields, const RateLimitVerdict& verdict);
// The 429: those fields, Retry-After, x-envoy-ratelimited: true, and Envoy's body.
boost::beast::http::response<boost::beast::http::string_body> rateLimitedResponse(const RateLimitVerdict& verdict);

class RateLimiter {
 public:
  struct Clocks {
    std::function<SteadyTime()> steady = [] { return std::chrono::steady_clock::now(); };
    Clock wall = systemClock();
  };

  // (Two constructors, not a defaulted Clocks argument: GCC 12 cannot use a nested
  // class's member initialisers in a default argument of the enclosing class.)
  explicit RateLimiter(boost::asio::io_context& io, RedisClientOptions redis = {});
  RateLimiter(boost::asio::io_context& io, RedisClientOptions redis, Clocks clocks);

  boost::asio::awaitable<RateLimitVerdict> check(RateLimitCheck check);
  const RateLimitMetrics& metrics() const { return metrics_; }

 private:
  // The global items, one Redis pipeline per address; returns `verdict` updated.
  boost::asio::awaitable<RateLimitVerdict> checkGlobal(RateLimitCheck check, RateLimitVerdict verdict);
  void warnUnexpected(const std::string& address, const std::string& what);
  RedisClient& redisFor(const RateLimitRule& rule);

  boost::asio::io_context& io_;
  RedisClientOptions redisOptions_;
  Clocks clocks_;
  std::map<std::string, LocalBuckets> local_;                  // by ruleId
  std::map<std::string, std::unique_ptr<RedisClient>> redis_;  // by "host:port"
  RateLimitMetrics metrics_;
  std::chrono::steady_clock::time_point lastWarning_{};
};

}  // namespace weft::proxy
