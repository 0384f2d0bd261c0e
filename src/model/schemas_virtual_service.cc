// networking.istio.io VirtualService: how requests for a set of hosts are routed, HTTP
// (match, route, redirect, rewrite, retries, faults, mirroring, CORS), TLS by SNI and TCP.
//
// As for every networking kind (see schemas_networking.cc), both the CRD's rules and
// istiod's webhook checks are enforced; whether the destinations, subsets and gateways
// named here exist is left to analysis.

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "model/networking_schemas.h"
#include "model/schema_rules.h"

namespace weft::model {
namespace {

namespace json = boost::json;

SchemaPtr destinationHost() {
  static const SchemaPtr schema = strRule([](std::string_view host) -> std::optional<std::string> {
    if (host == "*") return std::string("\"*\" is not a valid destination host");
    return checkWildcardDomain(host);
  });
  return schema;
}

SchemaPtr destination() {
  static const SchemaPtr schema = object()
                                      .required("host", destinationHost())
                                      .field("subset", subsetName())
                                      .field("port", object().required("number", portNumber()));
  return schema;
}

// Fault and mirror percentages: 0 (off) or a share between 0.0001 and 100.
SchemaPtr percentage(bool faultStyle) {
  auto value = withChecks(number(), {[faultStyle](const json::value& v) -> std::optional<std::string> {
    double d = asDouble(v);
    if (d < 0 || d > 100) return "must be between 0 and 100";
    if (faultStyle && d > 0 && d < 0.0001) return "must be 0 or at least 0.0001";
    return std::nullopt;
  }});
  return object().field("value", value);
}

SchemaPtr httpMatch() {
  static const SchemaPtr schema = object()
                                      .field("name", str())
                                      .field("uri", stringMatch(MatchUse::kUri))
                                      .field("scheme", stringMatch(MatchUse::kOther))
                                      .field("method", stringMatch(MatchUse::kOther))
                                      .field("authority", stringMatch(MatchUse::kOther))
                                      .field("headers", matchHeaders(MatchUse::kOther))
                                      .field("withoutHeaders", matchHeaders(MatchUse::kWithoutHeader))
                                      .field("queryParams", mapOf(stringMatch(MatchUse::kOther)))
                                      .field("port", portOrZero())
                                      .field("sourceLabels", labelMap())
                                      .field("gateways", listOf(gatewayName()))
                                      .field("ignoreUriCase", boolean())
                                      .field("sourceNamespace", namespaceName())
                                      .field("statPrefix", str());
  return schema;
}

SchemaPtr weight() {
  static const SchemaPtr schema = integer(0, INT32_MAX);
  return schema;
}

SchemaPtr httpRouteDestination() {
  static const SchemaPtr schema =
      object().required("destination", destination()).field("weight", weight()).field("headers", headers());
  return schema;
}

SchemaPtr routeDestination() {
  static const SchemaPtr schema = object().required("destination", destination()).field("weight", weight());
  return schema;
}

// Weights are relative; several destinations that all weigh 0 would send traffic nowhere.
void checkTotalWeight(const Site& route, std::string_view field) {
  const auto* list = arrayAt(route.value, field);
  if (list == nullptr || list->size() < 2) return;
  int64_t total = 0;
  for (const auto& d : *list) {
    if (auto w = intAt(d, "weight")) total += *w;
  }
  if (total == 0) route.fieldError(field, "the weights of several destinations must not all be 0");
}

SchemaPtr redirectCode() {
  static const SchemaPtr schema =
      withChecks(integer(0, UINT32_MAX), {[](const json::value& v) -> std::optional<std::string> {
        int64_t code = asInt(v);
        if (code != 0 && (code < 300 || code > 399)) return "must be a 3xx status code";
        return std::nullopt;
      }});
  return schema;
}

SchemaPtr redirect() {
  static const SchemaPtr schema =
      object()
          .field("uri", str())
          .field("authority", str())
          .field("port", portOrZero())
          .field("derivePort", enumOf({"FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"}))
          .field("scheme", enumOf({"http", "https"}))
          .field("redirectCode", redirectCode())
          .field("prefixRewrite", str())
          .oneOf({"port", "derivePort"})
          .oneOf({"uri", "prefixRewrite"})
          .check([](const Site& s) {
            for (const char* name : {"uri", "prefixRewrite", "authority", "scheme", "port", "derivePort"}) {
              if (present(s.value, name)) return;
            }
            s.error("one of uri, prefixRewrite, authority, scheme, port or derivePort must be set");
          });
  return schema;
}

// Base64 as Kubernetes "format: byte" fields carry it.
std::optional<std::string> checkBase64(std::string_view text) {
  auto isB64 = [](char c) { return isAlnum(c) || c == '+' || c == '/'; };
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '=' && text.size() - end < 2) --end;
  bool ok = text.size() % 4 == 0 && std::all_of(text.begin(), text.begin() + static_cast<ptrdiff_t>(end), isB64);
  if (!ok) return std::string("must be base64-encoded");
  return std::nullopt;
}

SchemaPtr directResponse() {
  // istiod refuses bodies over 1 MB: they travel in every route configuration push.
  auto bodySize = [](size_t max) {
    return [max](const json::value& v) -> std::optional<std::string> {
      if (v.get_string().size() > max) return "must be smaller than 1MB";
      return std::nullopt;
    };
  };
  static const SchemaPtr schema =
      object()
          .required("status", integer(200, 599))
          .field("body", object()
                             .field("string", str({bodySize(1 << 20)}))
                             .field("bytes", str({stringRule(checkBase64), bodySize((1 << 20) * 4 / 3 + 4)}))
                             .oneOf({"string", "bytes"}));
  return schema;
}

SchemaPtr rewrite() {
  static const SchemaPtr schema =
      object()
          .field("uri", str())
          .field("authority", str())
          .field("uriRegexRewrite", object().required("match", istioRegex(false)).required("rewrite", nonEmptyStr()))
          .oneOf({"uri", "uriRegexRewrite"})
          .check([](const Site& s) {
            if (!present(s.value, "uri") && !present(s.value, "uriRegexRewrite") && !present(s.value, "authority")) {
              s.error("one of uri, uriRegexRewrite or authority must be set");
            }
          });
  return schema;
}

// Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies.
bool isRetryOnToken(std::string_view token) {
  static const std::set<std::string_view> kPolicies = {
      "5xx",          "gateway-error",          "reset",           "reset-before-request",
      "connect-failure", "retriable-4xx",       "refused-stream",  "retriable-status-codes",
      "retriable-headers", "envoy-ratelimited", "http3-post-connect-failure",
      "cancelled",    "deadline-exceeded",      "internal",        "resource-exhausted",
      "unavailable",
  };
  if (kPolicies.count(token) != 0) return true;
  bool digits = !token.empty() && token.size() <= 3 &&
                std::all_of(token.begin(), token.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  if (!digits) return false;
  int code = std::stoi(std::string(token));
  return code >= 100 && code <= 599;
}

SchemaPtr retries() {
  static const SchemaPtr schema =
      object()
          .field("attempts", integer(0, INT32_MAX))
          .field("perTryTimeout", istioDuration())
          .field("retryOn", strRule([](std::string_view policies) -> std::optional<std::string> {
                   size_t start = 0;
                   for (;;) {
                     size_t comma = policies.find(',', start);
                     auto token = policies.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
                     if (!isRetryOnToken(token)) return fmt::format("\"{}\" is not a valid retryOn policy", token);
                     if (comma == std::string_view::npos) return std::nullopt;
                     start = comma + 1;
                   }
                 }))
          .field("retryRemoteLocalities", boolean())
          .field("retryIgnorePreviousHosts", boolean())
          .field("backoff", istioDuration())
          .check([](const Site& s) {
            // attempts: 0 (or left out, which proto3 reads as 0) turns retries off, and
            // istiod refuses a policy that says otherwise in the same breath.
            const auto* attempts = find(s.value, "attempts");
            bool disabled = attempts == nullptr || ((attempts->is_int64() || attempts->is_uint64()) && asInt(*attempts) == 0);
            if (disabled && (present(s.value, "perTryTimeout") || present(s.value, "retryOn") ||
                             find(s.value, "retryRemoteLocalities") != nullptr)) {
              s.error("perTryTimeout, retryOn and retryRemoteLocalities need attempts greater than 0 (attempts 0 disables retries)");
            }
          });
  return schema;
}

SchemaPtr fault() {
  static const SchemaPtr delay = object()
                                     .field("fixedDelay", istioDuration())
                                     .field("exponentialDelay", istioDuration())
                                     .field("percentage", percentage(true))
                                     .field("percent", integer(0, 100))
                                     .oneOf({"fixedDelay", "exponentialDelay"})
                                     .check([](const Site& s) {
                                       if (find(s.value, "exponentialDelay") != nullptr) {
                                         s.fieldError("exponentialDelay", "is not supported; use fixedDelay");
                                       }
                                     });
  static const SchemaPtr abort = object()
                                     .field("httpStatus", integer(200, 599))
                                     .field("grpcStatus", enumOf({"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                                                  "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                                                  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                                                  "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                                                  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                                                  "UNAUTHENTICATED"}))
                                     .field("http2Error", str())
                                     .field("percentage", percentage(true))
                                     .oneOf({"httpStatus", "grpcStatus", "http2Error"})
                                     .check([](const Site& s) {
                                       if (find(s.value, "http2Error") != nullptr) {
                                         s.fieldError("http2Error", "is not supported; use httpStatus or grpcStatus");
                                       }
                                     });
  static const SchemaPtr schema = object().field("delay", delay).field("abort", abort).check([](const Site& s) {
    if (find(s.value, "delay") == nullptr && find(s.value, "abort") == nullptr) s.error("one of delay or abort must be set");
  });
  return schema;
}

SchemaPtr corsHeaderName() {
  static const SchemaPtr schema = strRule([](std::string_view name) -> std::optional<std::string> {
    if (name == "*" || isToken(name)) return std::nullopt;
    if (name.empty()) return std::string("header names must not be empty");
    return fmt::format("\"{}\" is not a valid header name", name);
  });
  return schema;
}

SchemaPtr corsPolicy() {
  static const SchemaPtr schema =
      object()
          .field("allowOrigin", listOf(str()))  // deprecated spelling of allowOrigins (exact strings)
          .field("allowOrigins", listOf(stringMatch(MatchUse::kCorsOrigin)))
          .field("allowMethods",
                 listOf(enumOf({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"})))
          .field("allowHeaders", listOf(corsHeaderName()))
          .field("exposeHeaders", listOf(corsHeaderName()))
          // Access-Control-Max-Age is in whole seconds.
          .field("maxAge", withChecks(istioDuration(), {stringRule([](std::string_view text) -> std::optional<std::string> {
                                        auto parsed = parseDuration(text);
                                        if (parsed && parsed->count() % 1'000'000'000 != 0) return "must be a whole number of seconds";
                                        return std::nullopt;
                                      })}))
          .field("allowCredentials", boolean())
          .field("unmatchedPreflights", enumOf({"UNSPECIFIED", "FORWARD", "IGNORE"}));
  return schema;
}

// What one HTTP route does: forward (route), answer (redirect, directResponse) or hand
// over to another VirtualService (delegate). istiod allows one of them, and a redirect or
// a direct response cannot be combined with a fault or a rewrite either.
void checkHttpRouteAction(const Site& s) {
  auto has = [&](const char* field) { return find(s.value, field) != nullptr; };
  bool route = present(s.value, "route");
  if (has("delegate")) {
    if (has("redirect")) s.fieldError("redirect", "cannot be combined with delegate");
    if (route) s.fieldError("route", "cannot be combined with delegate");
    return;
  }
  const char* answer = has("redirect") ? "redirect" : has("directResponse") ? "directResponse" : nullptr;
  if (answer == nullptr) {
    if (!route) s.error("one of route, redirect, directResponse or delegate must be set");
    return;
  }
  if (route) s.fieldError("route", fmt::format("cannot be combined with {}", answer));
  for (const char* other : {"fault", "rewrite"}) {
    if (has(other)) s.fieldError(other, fmt::format("cannot be combined with {}", answer));
  }
  if (has("redirect") && has("directResponse")) s.fieldError("directResponse", "cannot be combined with redirect");
}

// A redirect's prefixRewrite replaces the matched prefix, so every uri match must be one.
void checkPrefixRewrite(const Site& s) {
  const auto* redirectValue = find(s.value, "redirect");
  if (redirectValue == nullptr || !present(*redirectValue, "prefixRewrite")) return;
  const auto* matches = arrayAt(s.value, "match");
  if (matches == nullptr) return;
  for (const auto& m : *matches) {
    const auto* uri = find(m, "uri");
    if (uri != nullptr && find(*uri, "prefix") == nullptr) {
      s.child("redirect").fieldError("prefixRewrite", "needs every uri match of the route to be a prefix match");
      return;
    }
  }
}

// The authority may be rewritten in one place only: rewrite.authority or a request header.
void checkAuthorityRewrite(const Site& s) {
  const auto* rewriteValue = find(s.value, "rewrite");
  int count = rewriteValue != nullptr && present(*rewriteValue, "authority") ? 1 : 0;
  const auto* hdrs = find(s.value, "headers");
  const auto* request = hdrs != nullptr ? find(*hdrs, "request") : nullptr;
  for (const char* op : {"set", "add"}) {
    const auto* map = request != nullptr ? objectAt(*request, op) : nullptr;
    if (map == nullptr) continue;
    for (const auto& [key, value] : *map) count += isAuthorityHeader(key) ? 1 : 0;
  }
  if (count > 1) s.error("the authority is rewritten more than once (rewrite.authority and a :authority or host header)");
}

SchemaPtr httpRoute() {
  static const SchemaPtr schema = object()
                                      .field("name", str())
                                      .field("match", listOf(httpMatch()))
                                      .field("route", listOf(httpRouteDestination()))
                                      .field("redirect", redirect())
                                      .field("directResponse", directResponse())
                                      .field("delegate", object().required("name", nonEmptyStr()).field("namespace", namespaceName()))
                                      .field("rewrite", rewrite())
                                      .field("timeout", istioDuration())
                                      .field("retries", retries())
                                      .field("fault", fault())
                                      .field("mirror", destination())
                                      .field("mirrors", listOf(object()
                                                                   .required("destination", destination())
                                                                   .field("percentage", percentage(false))))
                                      // mirrorPercent is deprecated; the CRD also accepts the proto name.
                                      .field("mirrorPercent", integer(0, 100))
                                      .field("mirror_percent", integer(0, 100))
                                      .field("mirrorPercentage", percentage(false))
                                      .field("corsPolicy", corsPolicy())
                                      .field("headers", headers())
                                      .oneOf({"mirror", "mirrors"})
                                      .oneOf({"mirrorPercent", "mirror_percent"})
                                      .check(checkHttpRouteAction)
                                      .check([](const Site& s) { checkTotalWeight(s, "route"); })
                                      .check(checkPrefixRewrite)
                                      .check(checkAuthorityRewrite);
  return schema;
}

SchemaPtr sniHost() {
  static const SchemaPtr schema = strRule([](std::string_view host) -> std::optional<std::string> {
    if (isIpAddress(host)) return std::nullopt;  // against the SNI spec, but istiod only warns
    return checkWildcardDomain(host);
  });
  return schema;
}

SchemaPtr tlsRoute() {
  static const SchemaPtr match = object()
                                     .required("sniHosts", listOf(sniHost(), 1))
                                     .field("destinationSubnets", listOf(ipOrCidr()))
                                     .field("port", portOrZero())
                                     .field("sourceLabels", labelMap())
                                     .field("gateways", listOf(gatewayName()))
                                     .field("sourceNamespace", namespaceName());
  static const SchemaPtr schema = object()
                                      .required("match", listOf(match, 1))
                                      .required("route", listOf(routeDestination(), 1))
                                      .check([](const Site& s) { checkTotalWeight(s, "route"); });
  return schema;
}

SchemaPtr tcpRoute() {
  static const SchemaPtr match = object()
                                     .field("destinationSubnets", listOf(ipOrCidr()))
                                     .field("port", portOrZero())
                                     .field("sourceSubnet", ipOrCidr())
                                     .field("sourceLabels", labelMap())
                                     .field("gateways", listOf(gatewayName()))
                                     .field("sourceNamespace", namespaceName());
  static const SchemaPtr schema = object()
                                      .field("match", listOf(match))
                                      .required("route", listOf(routeDestination(), 1))
                                      .check([](const Site& s) { checkTotalWeight(s, "route"); });
  return schema;
}

std::optional<std::string> checkVirtualServiceHost(std::string_view host) {
  if (isIpAddress(host)) return std::nullopt;
  return checkWildcardDomain(host);
}

// Rules across the whole VirtualService: delegates, hosts against gateways, duplicates.
void checkVirtualService(const Site& s) {
  const auto* hosts = arrayAt(s.value, "hosts");
  const auto* gateways = arrayAt(s.value, "gateways");
  const auto* http = arrayAt(s.value, "http");
  // A VirtualService without hosts is a delegate: only reachable from another one's
  // http[].delegate, so it can carry neither gateways nor TLS/TCP routes.
  bool isDelegate = hosts == nullptr || hosts->empty();
  bool boundToGateways = gateways != nullptr && !gateways->empty() && !containsString(gateways, "mesh");

  if (isDelegate) {
    if (present(s.value, "gateways")) s.fieldError("gateways", "must not be set in a delegate virtual service (one without hosts)");
    if (present(s.value, "tls")) s.fieldError("tls", "must not be set in a delegate virtual service (one without hosts)");
    if (present(s.value, "tcp")) s.fieldError("tcp", "must not be set in a delegate virtual service (one without hosts)");
    for (size_t i = 0; http != nullptr && i < http->size(); ++i) {
      if (find((*http)[i], "delegate") != nullptr) {
        itemSite(s.child("http"), i).fieldError("delegate", "a delegate virtual service cannot delegate again");
      }
    }
  }
  if (!present(s.value, "http") && !present(s.value, "tls") && !present(s.value, "tcp")) {
    s.error("one of http, tls or tcp must be set");
  }

  bool hostsValid = true;
  for (size_t i = 0; hosts != nullptr && i < hosts->size(); ++i) {
    const auto& h = (*hosts)[i];
    if (!h.is_string() || checkVirtualServiceHost(std::string_view(h.get_string()))) {
      hostsValid = false;
    } else if (!boundToGateways && h.get_string() == "*") {
      itemSite(s.child("hosts"), i).error("\"*\" is allowed only in virtual services bound to gateways other than mesh");
      hostsValid = false;
    }
  }
  if (hostsValid && hosts != nullptr) {
    for (size_t j = 1; j < hosts->size(); ++j) {
      for (size_t i = 0; i < j; ++i) {
        std::string_view a((*hosts)[i].get_string()), b((*hosts)[j].get_string());
        if (hostsOverlap(a, b)) {
          itemSite(s.child("hosts"), j).error(fmt::format("\"{}\" overlaps with \"{}\"", b, a));
          break;
        }
      }
    }
  }

  // JWT claims are known only where a RequestAuthentication ran first: at a gateway.
  for (size_t i = 0; !boundToGateways && http != nullptr && i < http->size(); ++i) {
    const auto* matches = arrayAt((*http)[i], "match");
    for (size_t j = 0; matches != nullptr && j < matches->size(); ++j) {
      for (const char* field : {"headers", "withoutHeaders"}) {
        const auto* map = objectAt((*matches)[j], field);
        if (map == nullptr) continue;
        Site mapSite = itemSite(itemSite(s.child("http"), i).child("match"), j).child(field);
        for (const auto& [key, value] : *map) {
          if (isJwtClaimHeader(key)) {
            entrySite(mapSite, key).error("routing on JWT claims works only in virtual services bound to gateways other than mesh");
          }
        }
      }
    }
  }

  // Each SNI host must fall under one of the virtual service's hosts.
  const auto* tls = arrayAt(s.value, "tls");
  for (size_t i = 0; hostsValid && !isDelegate && tls != nullptr && i < tls->size(); ++i) {
    const auto* matches = arrayAt((*tls)[i], "match");
    for (size_t j = 0; matches != nullptr && j < matches->size(); ++j) {
      const auto* snis = arrayAt((*matches)[j], "sniHosts");
      for (size_t k = 0; snis != nullptr && k < snis->size(); ++k) {
        const auto& sni = (*snis)[k];
        if (!sni.is_string() || isIpAddress(std::string_view(sni.get_string())) || checkWildcardDomain(std::string_view(sni.get_string()))) continue;
        bool covered = std::any_of(hosts->begin(), hosts->end(), [&](const json::value& h) {
          return hostSubsetOf(std::string_view(sni.get_string()), std::string_view(h.get_string()));
        });
        if (!covered) {
          itemSite(itemSite(itemSite(s.child("tls"), i).child("match"), j).child("sniHosts"), k)
              .error(fmt::format("\"{}\" is not covered by any of the virtual service's hosts", std::string_view(sni.get_string())));
        }
      }
    }
  }
}

}  // namespace

SchemaPtr virtualServiceSpecSchema() {
  static const SchemaPtr schema = object()
                                      .field("hosts", listOf(strRule(checkVirtualServiceHost)))
                                      .field("gateways", listOf(gatewayName()))
                                      .field("http", listOf(httpRoute()))
                                      .field("tls", listOf(tlsRoute()))
                                      .field("tcp", listOf(tcpRoute()))
                                      .field("exportTo", exportTo(false))
                                      .check(checkVirtualService);
  return schema;
}

}  // namespace weft::model
