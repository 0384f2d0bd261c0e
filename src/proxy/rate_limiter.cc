#include "proxy/rate_limiter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace weft::proxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr int64_t kExpirySlackMs = 1000;  // replicas' clocks differ a little

// Keeps the quota nearest its limit: the fewest remaining, then the longest reset.
void consider(RateLimitVerdict& verdict, const Quota& q) {
  if (!verdict.quota || q.remaining < verdict.quota->remaining ||
      (q.remaining == verdict.quota->remaining && q.reset > verdict.quota->reset)) {
    verdict.quota = q;
  }
}

std::chrono::seconds ceilSeconds(int64_t ms) { return std::chrono::seconds((std::max<int64_t>(ms, 0) + 999) / 1000); }

}  // namespace

RateLimitCheck rateLimitCheck(std::shared_ptr<const RateLimitTable> table, std::string_view gateway,
                              const std::vector<std::string>& services, const RequestFacts& facts) {
  RateLimitCheck check;
  for (const RateLimitRule* rule : table->rulesFor(gateway, services)) {
    auto key = rateLimitKey(*rule, facts);
    if (key) check.items.push_back({rule, std::move(*key)});
  }
  check.table = std::move(table);
  return check;
}

RateLimitCheck rateLimitCheck(const ProxyConfig& config, const CompiledVirtualHost& vhost, const CompiledRoute& route,
                              const http::request_header<>& request, const std::string& peer, const std::string& principal) {
  if (config.rateLimits()->none()) return {};
  std::vector<std::string> services;
  if (route.spec.has_route()) {
    for (const auto& c : route.spec.route().clusters()) {
      if (const auto* cluster = config.cluster(c.cluster()); cluster != nullptr) services.push_back(cluster->service_hostname());
    }
  }
  RequestFacts facts;
  facts.clientAddress = peer;
  facts.principal = principal;
  facts.header = [&request](std::string_view name) -> std::optional<std::string_view> {
    auto found = request.find(name);
    if (found == request.end()) return std::nullopt;
    return found->value();
  };
  return rateLimitCheck(config.rateLimits(), route.gateway.empty() ? vhost.gateway : route.gateway, services, facts);
}

void addRateLimitHeaders(http::fields& fields, const RateLimitVerdict& verdict) {
  if (!verdict.quota) return;
  fields.set("ratelimit-limit", std::to_string(verdict.quota->limit));
  fields.set("ratelimit-remaining", std::to_string(verdict.quota->remaining));
  fields.set("ratelimit-reset", std::to_string(verdict.quota->reset.count()));
}

http::response<http::string_body> rateLimitedResponse(const RateLimitVerdict& verdict) {
  http::response<http::string_body> response{http::status::too_many_requests, 11};
  response.set(http::field::server, "istio-envoy");
  response.set(http::field::content_type, "text/plain");
  response.set("x-envoy-ratelimited", "true");
  addRateLimitHeaders(response.base(), verdict);
  if (verdict.quota) response.set(http::field::retry_after, std::to_string(std::max<int64_t>(1, verdict.quota->retryAfter.count())));
  // Envoy's bodies: the local rate limit filter's text, the ratelimit filter's none.
  response.body() = verdict.global ? "" : "local_rate_limited";
  response.prepare_payload();
  return response;
}

RateLimiter::RateLimiter(asio::io_context& io, RedisClientOptions redis) : RateLimiter(io, std::move(redis), Clocks{}) {}

RateLimiter::RateLimiter(asio::io_context& io, RedisClientOptions redis, Clocks clocks)
    : io_(io), redisOptions_(redis), clocks_(std::move(clocks)) {}

asio::awaitable<RateLimitVerdict> RateLimiter::check(RateLimitCheck check) {
  RateLimitVerdict verdict;
  bool anyGlobal = false;
  SteadyTime now = clocks_.steady();
  for (const auto& item : check.items) {
    if (item.rule->global) {
      anyGlobal = true;
      continue;
    }
    Quota q = local_[ruleId(*item.rule)].take(item.key, item.rule->limit, now);
    if (!q.allowed) {
      metrics_.limited(item.rule->policy, item.rule->name, false);
      verdict.limited = true;
      verdict.quota = q;
      co_return verdict;
    }
    consider(verdict, q);
  }
  if (!anyGlobal) co_return verdict;
  co_return co_await checkGlobal(std::move(check), std::move(verdict));
}

asio::awaitable<RateLimitVerdict> RateLimiter::checkGlobal(RateLimitCheck check, RateLimitVerdict verdict) {
  // One pipeline per Redis address, in the order the addresses first appear.
  std::vector<std::pair<std::string, std::vector<const RateLimitCheck::Item*>>> groups;
  for (const auto& item : check.items) {
    if (!item.rule->global) continue;
    std::string address = item.rule->redisHost + ":" + item.rule->redisPort;
    auto group = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == address; });
    if (group == groups.end()) group = groups.insert(groups.end(), {address, {}});
    group->second.push_back(&item);
  }
  for (const auto& [address, items] : groups) {
    int64_t nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(clocks_.wall().time_since_epoch()).count();
    std::vector<std::vector<std::string>> commands;
    std::vector<int64_t> windowEndMs;
    for (const auto* item : items) {
      int64_t unitMs = std::chrono::duration_cast<std::chrono::milliseconds>(item->rule->limit.unit).count();
      int64_t window = nowMs / unitMs;
      windowEndMs.push_back((window + 1) * unitMs);
      std::string key = redisCounterKey(*item->rule, item->key, window);
      commands.push_back({"INCR", key});
      commands.push_back({"PEXPIRE", key, std::to_string(windowEndMs.back() - nowMs + kExpirySlackMs)});
    }
    RedisClient& client = redisFor(*items.front()->rule);
    RedisReply reply = co_await client.execute(std::move(commands));
    if (reply.failure != RedisFailure::kNone) {
      metrics_.redisError(address, redisFailureName(reply.failure));
      metrics_.failureModeAllowed(address);
      continue;
    }
    for (size_t i = 0; i < items.size(); ++i) {
      const RespValue& count = reply.replies[2 * i];
      if (count.type != RespValue::Type::kInteger) {
        // A -ERR (a read-only replica, a key of another type) or any other answer.
        metrics_.redisError(address, "protocol");
        metrics_.failureModeAllowed(address);
        warnUnexpected(address, count.type == RespValue::Type::kError ? count.text : "an INCR answer that is not an integer");
        continue;
      }
      const RateLimitRule& rule = *items[i]->rule;
      Quota q;
      q.limit = rule.limit.requests;
      int64_t counted = std::max<int64_t>(count.integer, 0);  // INCR never answers less than 1; a peer might
      q.allowed = counted <= static_cast<int64_t>(rule.limit.requests);
      q.remaining = q.allowed ? static_cast<uint32_t>(rule.limit.requests - counted) : 0;
      q.reset = ceilSeconds(windowEndMs[i] - nowMs);
      q.retryAfter = q.allowed ? std::chrono::seconds(0) : std::max(std::chrono::seconds(1), q.reset);
      if (!q.allowed && !verdict.limited) {
        metrics_.limited(rule.policy, rule.name, true);
        verdict.limited = true;
        verdict.global = true;
        verdict.quota = q;
      }
      if (!verdict.limited) consider(verdict, q);
    }
  }
  co_return verdict;
}

RedisClient& RateLimiter::redisFor(const RateLimitRule& rule) {
  auto& client = redis_[rule.redisHost + ":" + rule.redisPort];
  if (!client) client = std::make_unique<RedisClient>(io_, rule.redisHost, rule.redisPort, redisOptions_);
  return *client;
}

void RateLimiter::warnUnexpected(const std::string& address, const std::string& what) {
  auto now = std::chrono::steady_clock::now();
  if (lastWarning_ != std::chrono::steady_clock::time_point{} && now - lastWarning_ < std::chrono::seconds(10)) return;
  lastWarning_ = now;
  spdlog::warn("rate limit: redis {} answered INCR with {}; requests are allowed while it does", address, what);
}

}  // namespace weft::proxy
