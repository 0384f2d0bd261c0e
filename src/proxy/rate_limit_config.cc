#include "proxy/rate_limit_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace weft::proxy {

namespace {

bool isTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Result<RateLimitRule> compileRule(const weft::v1::RateLimitPolicy& policy, const weft::v1::RateLimitRule& spec) {
  std::string where = fmt::format("rate limit policy {} rule {}", policy.name(), spec.name());
  RateLimitRule rule;
  rule.policy = policy.name();
  rule.name = spec.name();
  rule.key = spec.key();
  if (spec.name().empty()) return makeError("rate limit policy {}: a rule without a name", policy.name());
  if (spec.requests() == 0) return makeError("{}: requests must be at least 1", where);
  if (spec.unit_seconds() != 1 && spec.unit_seconds() != 60 && spec.unit_seconds() != 3600) {
    return makeError("{}: unit of {} s is not a second, a minute or an hour", where, spec.unit_seconds());
  }
  rule.limit = Limit{spec.requests(), std::chrono::seconds(spec.unit_seconds())};
  switch (spec.key()) {
    case weft::v1::RateLimitRule::CLIENT_ADDRESS:
    case weft::v1::RateLimitRule::PRINCIPAL:
      break;
    case weft::v1::RateLimitRule::HEADER: {
      const std::string& h = spec.header_name();
      bool valid = !h.empty() && std::all_of(h.begin(), h.end(), isTokenChar) &&
                   std::none_of(h.begin(), h.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; });
      if (!valid) return makeError("{}: header {:?} is not a lower-case header name", where, h);
      rule.header = h;
      break;
    }
    default:
      return makeError("{}: unknown key kind {}", where, static_cast<int>(spec.key()));
  }
  if (policy.mode() == weft::v1::RateLimitPolicy::GLOBAL) {
    auto address = splitHostPort(policy.redis_address());
    if (!address) return address.error().wrap(where + ": redis_address");
    rule.global = true;
    rule.redisHost = address->first;
    rule.redisPort = address->second;
  } else if (policy.mode() != weft::v1::RateLimitPolicy::LOCAL) {
    return makeError("{}: unknown mode {}", where, static_cast<int>(policy.mode()));
  }
  return rule;
}

}  // namespace

Result<std::pair<std::string, std::string>> splitHostPort(std::string_view address) {
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return makeError("{:?} is not host:port", address);
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  int number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (ec != std::errc() || end != port.data() + port.size() || number < 1 || number > 65535) {
    return makeError("{:?}: the port must be between 1 and 65535", address);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::pair{std::string(host), std::string(port)};
}

std::shared_ptr<const RateLimitTable> RateLimitTable::empty() { return std::make_shared<const RateLimitTable>(); }

Result<std::shared_ptr<const RateLimitTable>> RateLimitTable::build(const std::map<std::string, weft::v1::Resource>& resources) {
  auto table = std::make_shared<RateLimitTable>();
  for (const auto& [name, resource] : resources) {
    if (!resource.has_rate_limit_policy()) return makeError("{}: not a RateLimitPolicy", name);
    const auto& spec = resource.rate_limit_policy();
    if (spec.rules().empty()) return makeError("rate limit policy {}: no rules", spec.name());
    Policy policy{{spec.gateways().begin(), spec.gateways().end()}, {spec.services().begin(), spec.services().end()}, {}};
    for (const auto& r : spec.rules()) {
      auto rule = compileRule(spec, r);
      if (!rule) return rule.error();
      policy.rules.push_back(std::move(*rule));
    }
    table->policies_.push_back(std::move(policy));
  }
  return std::shared_ptr<const RateLimitTable>(std::move(table));
}

std::vector<const RateLimitRule*> RateLimitTable::rulesFor(std::string_view gateway, const std::vector<std::string>& services) const {
  std::vector<const RateLimitRule*> out;
  for (const auto& policy : policies_) {
    bool applies = std::find(policy.gateways.begin(), policy.gateways.end(), gateway) != policy.gateways.end() ||
                   std::any_of(services.begin(), services.end(), [&](const std::string& s) {
                     return std::find(policy.services.begin(), policy.services.end(), s) != policy.services.end();
                   });
    if (!applies) continue;
    for (const auto& rule : policy.rules) out.push_back(&rule);
  }
  return out;
}

}  // namespace weft::proxy
