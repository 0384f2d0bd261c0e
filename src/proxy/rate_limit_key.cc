#include "proxy/rate_limit_key.h"

#include <fmt/format.h>

namespace weft::proxy {

std::optional<std::string> rateLimitKey(const RateLimitRule& rule, const RequestFacts& facts) {
  switch (rule.key) {
    case weft::v1::RateLimitRule::CLIENT_ADDRESS:
      if (facts.clientAddress.empty()) return std::nullopt;
      return facts.clientAddress;
    case weft::v1::RateLimitRule::PRINCIPAL:
      if (facts.principal.empty()) return std::nullopt;
      return facts.principal;
    case weft::v1::RateLimitRule::HEADER: {
      if (!facts.header) return std::nullopt;
      auto value = facts.header(rule.header);
      if (!value) return std::nullopt;
      return std::string(*value);
    }
    default:
      return std::nullopt;
  }
}

std::string ruleId(const RateLimitRule& rule) { return rule.policy + "/" + rule.name; }

std::string redisCounterKey(const RateLimitRule& rule, std::string_view key, int64_t window) {
  return fmt::format("weft:rl:{}:{}:{}:{}:{}", rule.policy, rule.name, rule.limit.unit.count(), window, key);
}

}  // namespace weft::proxy
