// policy.weft.dev: Weft's own policy kinds, for what Istio has no API for (Istio users
// write EnvoyFilters instead). Today one kind: RateLimitPolicy (docs/proxy.md, "Rate
// limits").
//
// Like the other kinds, everything that can be judged from the object alone is checked
// here (units, limits, key shapes, which kinds may be targets, Redis only with mode
// global); whether a target exists is a question about other objects, left to analysis
// (src/analyze/analyzers/rate_limit.cc).

#include <boost/json.hpp>

#include <charconv>
#include <set>
#include <string>
#include <string_view>

#include "base/k8s_names.h"
#include "model/kinds.h"
#include "model/schema_rules.h"

namespace weft::model {
namespace {

// The kinds a RateLimitPolicy attaches to, as (group, kind).
struct TargetKind {
  std::string_view group;
  std::string_view kind;
};
constexpr TargetKind kTargetKinds[] = {
    {"networking.istio.io", "Gateway"},
    {"gateway.networking.k8s.io", "Gateway"},
    {"gateway.networking.k8s.io", "HTTPRoute"},
    {"", "Service"},
};

SchemaPtr targetRef() {
  static const SchemaPtr schema =
      object()
          .field("group", strRule([](std::string_view group) -> std::optional<std::string> {
                   if (group.empty()) return std::nullopt;  // the core group
                   if (auto why = checkDns1123Subdomain(group)) return fmt::format("invalid API group: {}", *why);
                   return std::nullopt;
                 }))
          .required("kind", nonEmptyStr())
          .required("name", strRule([](std::string_view name) -> std::optional<std::string> {
                      if (auto why = checkDns1123Subdomain(name)) return *why;
                      return std::nullopt;
                    }))
          .check([](const Site& s) {
            std::string_view group = stringAt(s.value, "group");
            std::string_view kind = stringAt(s.value, "kind");
            if (kind.empty()) return;
            if (group == "core") group = "";
            for (const auto& t : kTargetKinds) {
              if (t.group == group && t.kind == kind) return;
            }
            s.error(fmt::format("unsupported target {}{}{}: use a networking.istio.io Gateway, a gateway.networking.k8s.io "
                                "Gateway or HTTPRoute, or a Service (group \"\")",
                                group, group.empty() ? "" : "/", kind));
          });
  return schema;
}

// "host:port": an IPv4 address, a bracketed IPv6 address or a DNS name, and a port.
std::optional<std::string> checkRedisAddress(std::string_view address) {
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return fmt::format("\"{}\" is not host:port", address);
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  int number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (ec != std::errc() || end != port.data() + port.size() || number < 1 || number > 65535) {
    return fmt::format("\"{}\": the port must be a number between 1 and 65535", address);
  }
  if (host.front() == '[' && host.back() == ']' && isIpAddress(host.substr(1, host.size() - 2))) return std::nullopt;
  if (isIpAddress(host)) return std::nullopt;
  if (checkDns1123Subdomain(host)) return fmt::format("\"{}\": \"{}\" is not an IP address or a DNS name", address, host);
  return std::nullopt;
}

SchemaPtr rule() {
  static const SchemaPtr key = object()
                                   .field("clientAddress", object())
                                   .field("header", object().required("name", strRule([](std::string_view name) -> std::optional<std::string> {
                                                                        if (isToken(name)) return std::nullopt;
                                                                        return fmt::format("\"{}\" is not a valid HTTP header name", name);
                                                                      })))
                                   .field("principal", object())
                                   .oneOf({"clientAddress", "header", "principal"}, true);
  static const SchemaPtr limit = object()
                                     .required("requests", integer(1, 1000000000))
                                     .required("unit", enumOf({"second", "minute", "hour"}));
  static const SchemaPtr schema = object()
                                      .required("name", strRule([](std::string_view name) -> std::optional<std::string> {
                                        if (auto why = checkDns1123Label(name)) return *why;
                                        return std::nullopt;
                                      }))
                                      .required("key", key)
                                      .required("limit", limit);
  return schema;
}

void checkRateLimitPolicy(const Site& s) {
  std::string_view mode = stringAt(s.value, "mode");
  bool global = mode == "global";
  if (global && find(s.value, "redis") == nullptr) s.fieldError("redis", "is required when mode is global");
  if (!global && find(s.value, "redis") != nullptr) s.fieldError("redis", "is only used with mode global");
  // Rule names name the counters (and the metrics' rule label): one per policy.
  const auto* rules = arrayAt(s.value, "rules");
  std::set<std::string_view> names;
  for (size_t i = 0; rules != nullptr && i < rules->size(); ++i) {
    std::string_view name = stringAt((*rules)[i], "name");
    if (!name.empty() && !names.insert(name).second) {
      itemSite(s.child("rules"), i).fieldError("name", fmt::format("duplicate rule name \"{}\"", name));
    }
  }
}

SchemaPtr rateLimitPolicySpec() {
  static const SchemaPtr schema = object()
                                      .required("targetRefs", atMost(listOf(targetRef(), 1), 16))
                                      .field("mode", enumOf({"local", "global"}))
                                      .field("redis", object().required("address", strRule(checkRedisAddress)))
                                      .required("rules", atMost(listOf(rule(), 1), 32))
                                      .check(checkRateLimitPolicy);
  return schema;
}

}  // namespace

void addWeftPolicyKinds(std::vector<KindInfo>& kinds) {
  kinds.push_back(KindInfo{
      .group = "policy.weft.dev",
      .kind = "RateLimitPolicy",
      .versions = {"v1alpha1"},
      .storageVersion = "v1alpha1",
      .plural = "ratelimitpolicies",
      .shortNames = {"rlp"},
      .namespaced = true,
      .body = object().required("spec", rateLimitPolicySpec()).field("status", preservedStatus()),
  });
}

}  // namespace weft::model
