// networking.istio.io: VirtualService, DestinationRule, Gateway, ServiceEntry, WorkloadEntry.
//
// Two layers of rules meet here, as they do in a cluster: the CRD's OpenAPI schema and CEL
// rules (types, enums, "only one of", durations >= 1ms), and the checks istiod's validating
// webhook applies on top (host syntax, weights, retry policies, TLS combinations). Both are
// enforced, because a file that the API server or the webhook would refuse must not be
// accepted here either. Rules that need other objects (does the subset exist, does the
// gateway exist) belong to analysis, not to decoding, and are left out.

#include <arpa/inet.h>
#include <re2/re2.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "model/kinds.h"

namespace weft::model {
namespace {

namespace json = boost::json;
using Rule = std::function<std::optional<std::string>(std::string_view)>;

// --- building blocks --------------------------------------------------------------------

ValueCheck stringRule(Rule rule) {
  return [rule = std::move(rule)](const json::value& v) { return rule(std::string_view(v.get_string())); };
}

SchemaPtr strRule(Rule rule) { return str({stringRule(std::move(rule))}); }

// A copy of `base` with more checks; they run after the base's own.
SchemaPtr withChecks(const SchemaPtr& base, std::vector<ValueCheck> extra) {
  auto schema = std::make_shared<Schema>(*base);
  for (auto& check : extra) schema->checks.push_back(std::move(check));
  return schema;
}

// The CRDs bound list and map sizes (maxItems, maxProperties) so one object cannot grow
// without limit.
SchemaPtr atMost(const SchemaPtr& collection, size_t max) {
  return withChecks(collection, {[max](const json::value& v) -> std::optional<std::string> {
    size_t size = v.is_array() ? v.get_array().size() : v.get_object().size();
    if (size > max) return fmt::format("must have at most {} {}", max, v.is_array() ? "items" : "entries");
    return std::nullopt;
  }});
}

SchemaPtr maxLength(const SchemaPtr& base, size_t max) {
  return withChecks(base, {[max](const json::value& v) -> std::optional<std::string> {
    if (v.get_string().size() > max) return fmt::format("must be at most {} characters", max);
    return std::nullopt;
  }});
}

double asDouble(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  return static_cast<double>(v.get_uint64());
}

int64_t asInt(const json::value& v) { return v.is_int64() ? v.get_int64() : static_cast<int64_t>(v.get_uint64()); }

SchemaPtr numberBetween(double min, double max) {
  return withChecks(number(), {[min, max](const json::value& v) -> std::optional<std::string> {
    double d = asDouble(v);
    if (d < min || d > max) return fmt::format("must be between {} and {}", min, max);
    return std::nullopt;
  }});
}

// Istio treats port 0 as "not set" in match conditions, so 0 passes; anything else must be
// a real port.
SchemaPtr portOrZero() {
  static const SchemaPtr schema =
      withChecks(integer(INT64_MIN, INT64_MAX), {[](const json::value& v) -> std::optional<std::string> {
        int64_t n = asInt(v);
        if (n == 0 || (n >= 1 && n <= 65535)) return std::nullopt;
        return "must be between 1 and 65535";
      }});
  return schema;
}

// istiod accepts durations of at least 1ms and in whole milliseconds.
SchemaPtr istioDuration() {
  static const SchemaPtr schema = withChecks(duration(), {stringRule([](std::string_view text) -> std::optional<std::string> {
                                               auto parsed = parseDuration(text);
                                               if (parsed && parsed->count() % 1'000'000 != 0) {
                                                 return "must be a whole number of milliseconds";
                                               }
                                               return std::nullopt;
                                             })});
  return schema;
}

// Durations where 0 means "off" (tcp idleTimeout, cookie ttl, protocol detection).
SchemaPtr durationOrZero() {
  static const SchemaPtr schema = strRule([](std::string_view text) -> std::optional<std::string> {
    auto parsed = parseDuration(text);
    if (!parsed) return parsed.error().message;
    if (parsed->count() != 0 && *parsed < std::chrono::milliseconds(1)) return "duration must be 0 or at least 1ms";
    return std::nullopt;
  });
  return schema;
}

// --- reading values inside object checks -----------------------------------------------
// Object checks run even when a field had the wrong type (that error is already reported),
// so every accessor tolerates anything.

const json::value* find(const json::value& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  const auto* v = object.get_object().if_contains(name);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

std::string_view stringAt(const json::value& object, std::string_view name) {
  const auto* v = find(object, name);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const json::array* arrayAt(const json::value& object, std::string_view name) {
  const auto* v = find(object, name);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

const json::object* objectAt(const json::value& object, std::string_view name) {
  const auto* v = find(object, name);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

std::optional<int64_t> intAt(const json::value& object, std::string_view name) {
  const auto* v = find(object, name);
  if (v == nullptr || !(v->is_int64() || v->is_uint64())) return std::nullopt;
  return asInt(*v);
}

bool boolAt(const json::value& object, std::string_view name) {
  const auto* v = find(object, name);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// Set to something other than an empty string, list or map: proto3 reads those as unset.
bool present(const json::value& object, std::string_view name) {
  const auto* v = find(object, name);
  if (v == nullptr) return false;
  if (v->is_string()) return !v->get_string().empty();
  if (v->is_array()) return !v->get_array().empty();
  if (v->is_object()) return !v->get_object().empty();
  return true;
}

Site itemSite(const Site& list, size_t index) {
  return Site{list.value.get_array()[index], fmt::format("{}[{}]", list.path, index), pointerChild(list.pointer, index),
              list.reporter};
}

Site entrySite(const Site& map, std::string_view key) {
  return Site{map.value.get_object().at(key), fmt::format("{}[{}]", map.path, key), pointerChild(map.pointer, key),
              map.reporter};
}

bool containsString(const json::array* list, std::string_view wanted) {
  if (list == nullptr) return false;
  return std::any_of(list->begin(), list->end(), [&](const json::value& v) { return v.is_string() && v.get_string() == wanted; });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// --- names and addresses -----------------------------------------------------------------

bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Istio's DNS label: like RFC 1123 but either case ("v1", "V1").
bool isIstioLabel(std::string_view s) {
  if (s.empty() || s.size() > 63 || !isAlnum(s.front()) || !isAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return isAlnum(c) || c == '-'; });
}

// A first label that may be a wildcard: "*", "*foo", "*-foo" or a plain label.
bool isWildcardLabel(std::string_view s) {
  if (s == "*") return true;
  if (s.size() > 63) return false;
  if (s.substr(0, 2) == "*-") return isIstioLabel(s.substr(2));
  if (s.substr(0, 1) == "*") return isIstioLabel(s.substr(1));
  return isIstioLabel(s);
}

bool isIpAddress(std::string_view text) {
  std::string s(text);
  unsigned char buffer[16];
  return inet_pton(AF_INET, s.c_str(), buffer) == 1 || inet_pton(AF_INET6, s.c_str(), buffer) == 1;
}

std::optional<std::string> checkIpOrCidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    if (isIpAddress(text)) return std::nullopt;
    return fmt::format("\"{}\" is not a valid IP address", text);
  }
  std::string address(text.substr(0, slash));
  std::string_view bits = text.substr(slash + 1);
  unsigned char buffer[16];
  int maxBits = inet_pton(AF_INET, address.c_str(), buffer) == 1 ? 32 : inet_pton(AF_INET6, address.c_str(), buffer) == 1 ? 128 : -1;
  bool digits = !bits.empty() && bits.size() <= 3 && std::all_of(bits.begin(), bits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  if (maxBits < 0 || !digits || std::stoi(std::string(bits)) > maxBits) return fmt::format("\"{}\" is not a valid CIDR block", text);
  return std::nullopt;
}

// Labels after the first one: plain labels, a trailing dot allowed, and a top-level domain
// that is not all digits (so "10.0.0.1" is not taken for a host name).
std::optional<std::string> checkLabels(std::string_view rest, std::string_view whole) {
  std::vector<std::string_view> labels;
  size_t start = 0;
  for (;;) {
    size_t dot = rest.find('.', start);
    labels.push_back(rest.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  std::string_view tld = labels.back();
  if (!tld.empty() && std::all_of(tld.begin(), tld.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    return fmt::format("\"{}\" is not a valid host name: the top-level domain \"{}\" is all digits", whole, tld);
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i == labels.size() - 1 && labels[i].empty()) break;  // "example.com."
    if (!isIstioLabel(labels[i])) return fmt::format("\"{}\" is not a valid host name: label \"{}\" is invalid", whole, labels[i]);
  }
  return std::nullopt;
}

std::optional<std::string> checkHostLength(std::string_view host) {
  if (host.empty()) return std::string("must not be empty");
  if (host.size() > 255) return fmt::format("\"{}\" is longer than 255 characters", host);
  return std::nullopt;
}

// A host that may start with a wildcard label: "reviews", "*.example.com", "*".
std::optional<std::string> checkWildcardDomain(std::string_view host) {
  if (auto why = checkHostLength(host)) return why;
  auto dot = host.find('.');
  std::string_view first = host.substr(0, dot);
  if (!isWildcardLabel(first)) return fmt::format("\"{}\" is not a valid host name: label \"{}\" is invalid", host, first);
  if (dot == std::string_view::npos) return std::nullopt;
  return checkLabels(host.substr(dot + 1), host);
}

std::optional<std::string> checkFqdn(std::string_view host) {
  if (auto why = checkHostLength(host)) return why;
  return checkLabels(host, host);
}

// Istio's host name matching: does `a` cover some name `b` covers ("*.a.com" vs "x.a.com").
bool hostsOverlap(std::string_view a, std::string_view b) {
  bool aWild = !a.empty() && a[0] == '*';
  bool bWild = !b.empty() && b[0] == '*';
  auto endsWith = [](std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
  };
  if (aWild && bWild) return a.size() < b.size() ? endsWith(b.substr(1), a.substr(1)) : endsWith(a.substr(1), b.substr(1));
  if (aWild) return endsWith(b, a.substr(1));
  if (bWild) return endsWith(a, b.substr(1));
  return a == b;
}

// Is every name `a` covers also covered by `b`?
bool hostSubsetOf(std::string_view a, std::string_view b) {
  bool aWild = !a.empty() && a[0] == '*';
  bool bWild = !b.empty() && b[0] == '*';
  auto endsWith = [](std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
  };
  if (a == b) return true;
  if (aWild) return bWild && a.size() >= b.size() && endsWith(a.substr(1), b.substr(1));
  if (bWild) return endsWith(a, b.substr(1));
  return false;
}

SchemaPtr istioName(std::string what) {
  return strRule([what](std::string_view s) -> std::optional<std::string> {
    if (isIstioLabel(s)) return std::nullopt;
    return fmt::format("\"{}\" is not a valid {}: use at most 63 letters, digits and '-', starting and ending with a letter or digit", s, what);
  });
}

SchemaPtr namespaceName() {
  static const SchemaPtr schema = istioName("namespace name");
  return schema;
}

SchemaPtr subsetName() {
  static const SchemaPtr schema = istioName("subset name");
  return schema;
}

// Gateway references in a VirtualService: "<namespace>/<name>", a bare name, or "mesh".
SchemaPtr gatewayName() {
  static const SchemaPtr schema = strRule([](std::string_view name) -> std::optional<std::string> {
    auto slash = name.find('/');
    if (slash == std::string_view::npos) {
      if (checkFqdn(name)) return fmt::format("\"{}\" is not a valid gateway name: use <namespace>/<name>, <name> or mesh", name);
      return std::nullopt;
    }
    std::string_view ns = name.substr(0, slash);
    std::string_view gw = name.substr(slash + 1);
    if (!isIstioLabel(ns)) return fmt::format("\"{}\": namespace \"{}\" is not a valid namespace name", name, ns);
    if (!isIstioLabel(gw)) return fmt::format("\"{}\": \"{}\" is not a valid gateway name", name, gw);
    return std::nullopt;
  });
  return schema;
}

// exportTo: "." (this namespace), "*" (all), a namespace, and for ServiceEntry "~" (none).
SchemaPtr exportTo(bool allowNone) {
  auto entry = strRule([allowNone](std::string_view e) -> std::optional<std::string> {
    if (e == "." || e == "*" || (allowNone && e == "~") || isIstioLabel(e)) return std::nullopt;
    return fmt::format("\"{}\" is not a valid exportTo entry: use \".\", \"*\"{} or a namespace name", e, allowNone ? ", \"~\"" : "");
  });
  return withChecks(listOf(entry), {[](const json::value& v) -> std::optional<std::string> {
    const auto& list = v.get_array();
    std::set<std::string_view> seen;
    for (const auto& e : list) {
      if (!e.is_string()) continue;
      std::string_view s(e.get_string());
      if (!seen.insert(s).second) return fmt::format("duplicate entry \"{}\"", s);
      if ((s == "*" || s == "~") && list.size() > 1) return fmt::format("\"{}\" cannot be combined with other entries", s);
    }
    return std::nullopt;
  }});
}

// Workload selector labels as Istio matches them: exact values, no wildcards.
SchemaPtr selectorLabels() {
  static const SchemaPtr schema =
      atMost(mapOf(strRule([](std::string_view value) -> std::optional<std::string> {
                     if (value.find('*') != std::string_view::npos) return "wildcards are not supported in selector values";
                     if (value.size() > 63) return "must be at most 63 characters";
                     return std::nullopt;
                   }),
                   stringRule([](std::string_view key) -> std::optional<std::string> {
                     if (key.empty()) return "selector label keys must not be empty";
                     if (key.find('*') != std::string_view::npos) return "wildcards are not supported in selector keys";
                     return std::nullopt;
                   })),
             4096);
  return schema;
}

// --- HTTP header names and values ----------------------------------------------------------

bool isTokenChar(char c) { return isAlnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos; }

bool isToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar); }

bool isJwtClaimHeader(std::string_view name) { return name.rfind("@request.auth.claims", 0) == 0; }

// Header names in match conditions: a token, a pseudo-header, or a JWT claim
// ("@request.auth.claims.groups").
std::optional<std::string> checkMatchHeaderName(std::string_view name) {
  if (name.empty()) return std::string("header names must not be empty");
  if (isJwtClaimHeader(name) || name == ":method" || name == ":scheme" || name == ":authority" || name == ":path" ||
      name == ":status" || isToken(name)) {
    return std::nullopt;
  }
  return fmt::format("\"{}\" is not a valid header name", name);
}

bool isAuthorityHeader(std::string_view name) { return iequals(name, ":authority") || iequals(name, "host"); }

// Request headers that may be set or added: anything but pseudo-headers, except that the
// authority may be rewritten (as ":authority" or "host").
std::optional<std::string> checkSettableRequestHeader(std::string_view name) {
  if (name.empty()) return std::string("header names must not be empty");
  if (name[0] == ':' && !isAuthorityHeader(name)) return fmt::format("\"{}\": pseudo-headers other than :authority cannot be set", name);
  return std::nullopt;
}

// Headers removed from requests, or changed on responses.
std::optional<std::string> checkModifiableHeader(std::string_view name) {
  if (name.empty()) return std::string("header names must not be empty");
  if (iequals(name, "host")) return fmt::format("\"{}\": the Host header cannot be changed here", name);
  if (name[0] == ':') return fmt::format("\"{}\": pseudo-headers cannot be changed", name);
  return std::nullopt;
}

// Envoy reads header values as format strings: "%%" is a literal percent sign and
// "%NAME%" or "%NAME(args)%" a substitution. A lone '%' makes Envoy reject the listener.
std::optional<std::string> checkHeaderValue(std::string_view value) {
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return std::string("must not contain control characters");
  }
  size_t i = 0;
  auto skipSpaces = [&] {
    while (i < value.size() && value[i] == ' ') ++i;
  };
  while (i < value.size()) {
    if (value[i] != '%') {
      ++i;
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '%') {
      i += 2;
      continue;
    }
    size_t start = i++;
    while (i < value.size() && value[i] != '%' && value[i] != '(') ++i;
    if (i < value.size() && value[i] == '(') {
      // Arguments: either free text up to ')' or a list of quoted strings in brackets.
      ++i;
      skipSpaces();
      if (i < value.size() && value[i] == '[') {
        ++i;
        for (;;) {
          skipSpaces();
          if (i < value.size() && value[i] == ']') break;
          if (i >= value.size() || value[i] != '"') return fmt::format("\"{}\": expected '\"' in the arguments of a %VARIABLE(...)%", value);
          for (++i; i < value.size() && value[i] != '"'; ++i) {
            if (value[i] == '\\') ++i;
          }
          ++i;
          skipSpaces();
          if (i < value.size() && value[i] == ',') {
            ++i;
            continue;
          }
          if (i >= value.size() || value[i] != ']') return fmt::format("\"{}\": expected ',' or ']' in the arguments of a %VARIABLE(...)%", value);
          break;
        }
        ++i;
        skipSpaces();
      } else {
        while (i < value.size() && value[i] != ')') i += value[i] == '\\' ? 2 : 1;
      }
      if (i >= value.size() || value[i] != ')') return fmt::format("\"{}\": unterminated %VARIABLE(...)% expression", value);
      ++i;
      skipSpaces();
    }
    if (i >= value.size() || value[i] != '%') {
      if (i == start + 1) return fmt::format("\"{}\": a literal '%' must be written as '%%'", value);
      return fmt::format("\"{}\": unterminated %VARIABLE% expression", value.substr(start));
    }
    ++i;
  }
  return std::nullopt;
}

SchemaPtr headerOperations(bool request) {
  auto setKey = stringRule(request ? Rule(checkSettableRequestHeader) : Rule(checkModifiableHeader));
  auto values = mapOf(strRule(checkHeaderValue), setKey);
  return object()
      .field("set", values)
      .field("add", values)
      .field("remove", listOf(strRule(checkModifiableHeader)));
}

SchemaPtr headers() {
  static const SchemaPtr schema = object().field("request", headerOperations(true)).field("response", headerOperations(false));
  return schema;
}

// --- StringMatch ----------------------------------------------------------------------------

// Regexes are RE2, as Envoy runs them; Envoy also caps program size, which istiod
// approximates with a length limit.
SchemaPtr istioRegex(bool starMeansPresent) {
  return strRule([starMeansPresent](std::string_view re) -> std::optional<std::string> {
    if (starMeansPresent && re == "*") return std::nullopt;
    if (re.empty()) return std::string("must not be empty");
    if (re.size() > 1024) return std::string("must be at most 1024 characters");
    RE2::Options options;
    options.set_log_errors(false);
    RE2 compiled(re, options);
    if (!compiled.ok()) return fmt::format("invalid RE2 regular expression: {}", compiled.error());
    return std::nullopt;
  });
}

enum class MatchUse {
  kUri,            // an empty prefix matches every path
  kOther,          // scheme, method, authority, headers, query parameters
  kWithoutHeader,  // regex "*" means "header present"
  kCorsOrigin,     // the one chosen value must be non-empty
};

SchemaPtr stringMatch(MatchUse use) {
  auto builder = object()
                     .field("exact", str())
                     .field("prefix", str())
                     .field("regex", istioRegex(use == MatchUse::kWithoutHeader))
                     .oneOf({"exact", "prefix", "regex"});
  if (use == MatchUse::kOther || use == MatchUse::kWithoutHeader) {
    builder.check([](const Site& s) {
      const auto* prefix = find(s.value, "prefix");
      if (prefix != nullptr && prefix->is_string() && prefix->get_string().empty()) s.fieldError("prefix", "must not be empty");
    });
  }
  if (use == MatchUse::kCorsOrigin) {
    builder.check([](const Site& s) {
      if (!find(s.value, "exact") && !find(s.value, "prefix") && !find(s.value, "regex")) {
        s.error("one of exact, prefix or regex must be set");
        return;
      }
      for (const char* name : {"exact", "prefix"}) {
        const auto* v = find(s.value, name);
        if (v != nullptr && v->is_string() && v->get_string().empty()) s.fieldError(name, "must not be empty");
      }
    });
  }
  return builder;
}

SchemaPtr matchHeaders(MatchUse use) { return mapOf(stringMatch(use), stringRule(checkMatchHeaderName)); }

// --- VirtualService -----------------------------------------------------------------------

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

SchemaPtr ipOrCidr() {
  static const SchemaPtr schema = strRule(checkIpOrCidr);
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

SchemaPtr virtualServiceSpec() {
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

// --- DestinationRule ------------------------------------------------------------------------

// "region/zone/subzone"; a trailing "*" stands for every zone or subzone.
std::optional<std::string> checkLocality(std::string_view locality) {
  auto stars = std::count(locality.begin(), locality.end(), '*');
  if (stars > 1 || (stars == 1 && locality.back() != '*')) {
    return fmt::format("\"{}\": '*' may appear only once, at the end", locality);
  }
  std::string_view rest = locality;
  for (int part = 0; part < 3; ++part) {
    size_t slash = part == 2 ? std::string_view::npos : rest.find('/');
    if (rest.substr(0, slash).empty()) return fmt::format("\"{}\" has an empty region, zone or subzone", locality);
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return std::nullopt;
}

// Two localities overlap when one covers the other ("us-east" and "us-east/zone1").
bool localitiesOverlap(std::string_view a, std::string_view b) {
  auto split = [](std::string_view l) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (int i = 0; i < 3; ++i) {
      size_t slash = i == 2 ? std::string_view::npos : l.find('/', start);
      parts.push_back(l.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return parts;
  };
  auto pa = split(a), pb = split(b);
  for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
    if (pa[i] == "*" || pb[i] == "*") return true;
    if (pa[i] != pb[i]) return false;
  }
  return true;  // one is a prefix of the other
}

// Reports the first locality that overlaps an earlier one.
void checkLocalityOverlaps(const std::vector<std::pair<std::string_view, Site>>& localities) {
  for (size_t j = 1; j < localities.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      if (localitiesOverlap(localities[i].first, localities[j].first)) {
        localities[j].second.error(fmt::format("\"{}\" overlaps with \"{}\"", localities[j].first, localities[i].first));
        return;
      }
    }
  }
}

bool isTopologyLabel(std::string_view key) {
  return key == "topology.kubernetes.io/region" || key == "topology.kubernetes.io/zone" || key == "topology.istio.io/subzone";
}

SchemaPtr regionName() {
  static const SchemaPtr schema = strRule([](std::string_view region) -> std::optional<std::string> {
    if (region.find('/') != std::string_view::npos) return fmt::format("\"{}\": failover takes regions, not zones or subzones", region);
    if (region.find('*') != std::string_view::npos) return fmt::format("\"{}\": failover regions cannot contain '*'", region);
    return std::nullopt;
  });
  return schema;
}

SchemaPtr failover() {
  static const SchemaPtr schema = object().field("from", regionName()).field("to", regionName()).check([](const Site& s) {
    if (present(s.value, "from") && stringAt(s.value, "from") == stringAt(s.value, "to")) s.error("from and to must be different regions");
  });
  return schema;
}

void checkLocalityLb(const Site& s) {
  if (present(s.value, "distribute") && (present(s.value, "failover") || present(s.value, "failoverPriority"))) {
    s.error("distribute cannot be combined with failover or failoverPriority");
    return;
  }
  if (present(s.value, "failover")) {
    const auto* priority = arrayAt(s.value, "failoverPriority");
    for (size_t i = 0; priority != nullptr && i < priority->size(); ++i) {
      const auto& key = (*priority)[i];
      if (key.is_string() && isTopologyLabel(std::string_view(key.get_string()))) {
        itemSite(s.child("failoverPriority"), i).error(fmt::format("\"{}\" cannot be combined with failover", std::string_view(key.get_string())));
        return;
      }
    }
  }
  const auto* distribute = arrayAt(s.value, "distribute");
  if (distribute == nullptr) return;
  std::vector<std::pair<std::string_view, Site>> sources;
  for (size_t i = 0; i < distribute->size(); ++i) {
    Site entry = itemSite(s.child("distribute"), i);
    const auto* to = objectAt(entry.value, "to");
    if (to != nullptr) {
      int64_t total = 0;
      bool numeric = true;
      std::vector<std::pair<std::string_view, Site>> targets;
      for (const auto& [locality, weight] : *to) {
        numeric = numeric && (weight.is_int64() || weight.is_uint64());
        if (numeric) total += asInt(weight);
        if (!checkLocality(locality)) targets.emplace_back(locality, entrySite(entry.child("to"), locality));
      }
      if (numeric && total != 100) entry.fieldError("to", fmt::format("weights must add up to 100, not {}", total));
      checkLocalityOverlaps(targets);
    }
    std::string_view from = stringAt(entry.value, "from");
    if (!from.empty() && !checkLocality(from)) sources.emplace_back(from, entry.child("from"));
  }
  checkLocalityOverlaps(sources);
}

SchemaPtr localityLbSetting() {
  static const SchemaPtr schema =
      object()
          .field("distribute", listOf(object()
                                          .field("from", strRule(checkLocality))
                                          .field("to", mapOf(integer(1, 100), stringRule(checkLocality)))))
          .field("failover", listOf(failover()))
          .field("failoverPriority", listOf(nonEmptyStr()))
          .field("enabled", boolean())
          .check(checkLocalityLb);
  return schema;
}

SchemaPtr zoneAwareLbSetting() {
  static const SchemaPtr schema =
      object()
          .field("enabled", boolean())
          .field("failover", listOf(failover()))
          // Region, zone and subzone ordering is built in; only other labels may be listed.
          .field("failoverPriority", listOf(strRule([](std::string_view key) -> std::optional<std::string> {
                   if (key.empty()) return std::string("must not be empty");
                   if (isTopologyLabel(key)) return fmt::format("\"{}\": region, zone and subzone are already handled by zone-aware load balancing", key);
                   return std::nullopt;
                 })))
          .field("minClusterSize", integer(1, INT64_MAX));
  return schema;
}

bool isPrime(int64_t n) {
  if (n < 2) return false;
  for (int64_t f = 2; f * f <= n; ++f) {
    if (n % f == 0) return false;
  }
  return true;
}

SchemaPtr consistentHash() {
  static const SchemaPtr cookie =
      object()
          .required("name", nonEmptyStr())
          .field("path", str())
          .field("ttl", durationOrZero())  // 0 makes a session cookie
          .field("attributes", listOf(object().required("name", nonEmptyStr()).field("value", str())))
          .check([](const Site& s) {
            const auto* attributes = arrayAt(s.value, "attributes");
            std::set<std::string_view> seen;
            for (size_t i = 0; attributes != nullptr && i < attributes->size(); ++i) {
              std::string_view name = stringAt((*attributes)[i], "name");
              if (!name.empty() && !seen.insert(name).second) {
                itemSite(s.child("attributes"), i).fieldError("name", fmt::format("duplicate cookie attribute \"{}\"", name));
              }
            }
          });
  // Envoy's Maglev table size must be prime and below 5000011.
  static const SchemaPtr tableSize = withChecks(integer(1, 5000010), {[](const json::value& v) -> std::optional<std::string> {
                                                  if (!isPrime(asInt(v))) return "must be a prime number";
                                                  return std::nullopt;
                                                }});
  static const SchemaPtr schema = object()
                                      .field("httpHeaderName", nonEmptyStr())
                                      .field("httpCookie", cookie)
                                      .field("useSourceIp", boolean())
                                      .field("httpQueryParameterName", nonEmptyStr())
                                      .field("ringHash", object().field("minimumRingSize", integer(0, INT64_MAX)))
                                      .field("maglev", object().required("tableSize", tableSize))
                                      .field("minimumRingSize", integer(0, INT64_MAX))  // deprecated: ringHash
                                      .oneOf({"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"})
                                      .oneOf({"minimumRingSize", "ringHash", "maglev"});
  return schema;
}

SchemaPtr loadBalancer() {
  static const SchemaPtr schema =
      object()
          .field("simple", enumOf({"UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"}))
          .field("consistentHash", consistentHash())
          .field("localityLbSetting", localityLbSetting())
          .field("zoneAwareLbSetting", zoneAwareLbSetting())
          .field("warmupDurationSecs", istioDuration())
          .field("warmup", object()
                               .required("duration", istioDuration())
                               .field("minimumPercent", numberBetween(0, 100))
                               .field("aggression", withChecks(number(), {[](const json::value& v) -> std::optional<std::string> {
                                                                 if (asDouble(v) <= 0) return "must be greater than 0";
                                                                 return std::nullopt;
                                                               }})))
          .oneOf({"simple", "consistentHash"})
          .oneOf({"localityLbSetting", "zoneAwareLbSetting"});
  return schema;
}

SchemaPtr nonNegativeInt32() {
  static const SchemaPtr schema = integer(0, INT32_MAX);
  return schema;
}

SchemaPtr connectionPool() {
  static const SchemaPtr tcp = object()
                                   .field("maxConnections", nonNegativeInt32())
                                   .field("connectTimeout", istioDuration())
                                   .field("tcpKeepalive", object()
                                                              .field("probes", uint32())
                                                              .field("time", istioDuration())
                                                              .field("interval", istioDuration()))
                                   .field("maxConnectionDuration", istioDuration())
                                   .field("idleTimeout", durationOrZero());  // 0s turns the timeout off
  static const SchemaPtr http =
      object()
          .field("http1MaxPendingRequests", nonNegativeInt32())
          .field("http2MaxRequests", nonNegativeInt32())
          .field("maxRequestsPerConnection", nonNegativeInt32())
          .field("maxRetries", nonNegativeInt32())
          .field("idleTimeout", istioDuration())
          .field("h2UpgradePolicy", enumOf({"DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"}))
          .field("useClientProtocol", boolean())
          .field("maxConcurrentStreams", nonNegativeInt32())
          .field("http2KeepAlive", object().required("interval", istioDuration()).required("timeout", istioDuration()))
          .check([](const Site& s) {
            if (stringAt(s.value, "h2UpgradePolicy") == "UPGRADE" && boolAt(s.value, "useClientProtocol")) {
              s.fieldError("useClientProtocol", "must not be true when h2UpgradePolicy is UPGRADE");
            }
          });
  static const SchemaPtr schema = object().field("tcp", tcp).field("http", http).check([](const Site& s) {
    if (find(s.value, "tcp") == nullptr && find(s.value, "http") == nullptr) s.error("one of tcp or http must be set");
  });
  return schema;
}

SchemaPtr outlierDetection() {
  static const SchemaPtr schema =
      object()
          .field("consecutiveErrors", int32())  // deprecated: consecutive5xxErrors / consecutiveGatewayErrors
          .field("splitExternalLocalOriginErrors", boolean())
          .field("consecutiveLocalOriginFailures", uint32())
          .field("consecutiveGatewayErrors", uint32())
          .field("consecutive5xxErrors", uint32())
          .field("interval", istioDuration())
          .field("baseEjectionTime", istioDuration())
          .field("maxEjectionPercent", integer(0, 100))
          .field("minHealthPercent", integer(0, 100))
          .field("outlierDetectionHttpErrorCodes", listOf(integer(100, 599)))
          .check([](const Site& s) {
            auto failures = intAt(s.value, "consecutiveLocalOriginFailures");
            if (failures && *failures > 0 && !boolAt(s.value, "splitExternalLocalOriginErrors")) {
              s.fieldError("consecutiveLocalOriginFailures", "needs splitExternalLocalOriginErrors: true");
            }
          });
  return schema;
}

// Client-side TLS. With credentialName the certificates come from a Secret, so the file
// fields must stay empty; ISTIO_MUTUAL uses the workload's own certificates.
void checkClientTls(const Site& s) {
  std::string_view mode = stringAt(s.value, "mode");
  bool credential = present(s.value, "credentialName");
  if (mode == "ISTIO_MUTUAL") {
    for (const char* f : {"clientCertificate", "privateKey", "caCertificates", "credentialName"}) {
      if (present(s.value, f)) s.fieldError(f, "cannot be set with mode ISTIO_MUTUAL");
    }
    return;
  }
  if (boolAt(s.value, "insecureSkipVerify")) {
    std::vector<const char*> conflicting;
    if (mode == "SIMPLE") conflicting = {"caCertificates", "credentialName", "subjectAltNames"};
    if (mode == "MUTUAL") conflicting = {"caCertificates", "subjectAltNames"};
    for (const char* f : conflicting) {
      if (find(s.value, f) != nullptr) s.fieldError(f, "cannot be set when insecureSkipVerify is true");
    }
  }
  if ((mode == "SIMPLE" || mode == "MUTUAL") && credential) {
    for (const char* f : {"clientCertificate", "privateKey", "caCertificates", "caCrl"}) {
      if (present(s.value, f)) s.fieldError(f, "cannot be set together with credentialName");
    }
    return;
  }
  if (mode == "MUTUAL") {
    for (const char* f : {"clientCertificate", "privateKey"}) {
      if (!present(s.value, f)) s.fieldError(f, "is required for mode MUTUAL unless credentialName is set");
    }
  }
}

SchemaPtr clientTls() {
  static const SchemaPtr schema = object()
                                      .field("mode", enumOf({"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"}))
                                      .field("clientCertificate", str())
                                      .field("privateKey", str())
                                      .field("caCertificates", str())
                                      .field("credentialName", str())
                                      .field("subjectAltNames", listOf(str()))
                                      .field("sni", str())
                                      .field("insecureSkipVerify", boolean())
                                      .field("caCrl", str())
                                      .check(checkClientTls);
  return schema;
}

SchemaPtr portTrafficPolicy() {
  static const SchemaPtr schema = object()
                                      .required("port", object().required("number", portNumber()))
                                      .field("loadBalancer", loadBalancer())
                                      .field("connectionPool", connectionPool())
                                      .field("outlierDetection", outlierDetection())
                                      .field("tls", clientTls())
                                      .check([](const Site& s) {
                                        for (const char* f : {"loadBalancer", "connectionPool", "outlierDetection", "tls"}) {
                                          if (find(s.value, f) != nullptr) return;
                                        }
                                        s.error("one of loadBalancer, connectionPool, outlierDetection or tls must be set");
                                      });
  return schema;
}

SchemaPtr trafficPolicy() {
  static const SchemaPtr tunnel =
      object()
          .field("protocol", enumOf({"CONNECT", "POST"}))
          .required("targetHost", strRule([](std::string_view host) -> std::optional<std::string> {
                      if (isIpAddress(host) || !checkFqdn(host)) return std::nullopt;
                      return fmt::format("\"{}\" is not a valid host name or IP address", host);
                    }))
          .required("targetPort", portNumber());
  static const SchemaPtr schema =
      object()
          .field("loadBalancer", loadBalancer())
          .field("connectionPool", connectionPool())
          .field("outlierDetection", outlierDetection())
          .field("tls", clientTls())
          .field("portLevelSettings", atMost(listOf(portTrafficPolicy()), 4096))
          .field("tunnel", tunnel)
          .field("proxyProtocol", object().field("version", enumOf({"V1", "V2"})))
          .field("retryBudget", object()
                                    .field("percent", numberBetween(0, 100))
                                    .field("minRetryConcurrency", uint32())
                                    .field("budgetInterval", istioDuration()))
          .oneOf({"tunnel", "proxyProtocol"})
          .check([](const Site& s) {
            if (s.value.get_object().empty()) {
              s.error("must set at least one of loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, tunnel, proxyProtocol or retryBudget");
            }
          });
  return schema;
}

void checkDestinationRule(const Site& s) {
  const auto* subsets = arrayAt(s.value, "subsets");
  std::set<std::string_view> names;
  for (size_t i = 0; subsets != nullptr && i < subsets->size(); ++i) {
    std::string_view name = stringAt((*subsets)[i], "name");
    if (!name.empty() && !names.insert(name).second) {
      itemSite(s.child("subsets"), i).fieldError("name", fmt::format("duplicate subset name \"{}\"", name));
    }
  }
  // A rule that picks workloads with a selector applies to its own namespace only.
  const auto* exported = arrayAt(s.value, "exportTo");
  if (find(s.value, "workloadSelector") != nullptr && exported != nullptr &&
      (exported->size() > 1 || containsString(exported, "*") || containsString(exported, "~"))) {
    s.fieldError("exportTo", "a destination rule with a workloadSelector can be exported only to its own namespace");
  }
}

SchemaPtr destinationRuleSpec() {
  static const SchemaPtr schema = object()
                                      .required("host", strRule(checkWildcardDomain))
                                      .field("trafficPolicy", trafficPolicy())
                                      .field("subsets", listOf(object()
                                                                   .required("name", subsetName())
                                                                   .field("labels", labelMap())
                                                                   .field("trafficPolicy", trafficPolicy())))
                                      .field("exportTo", exportTo(false))
                                      .field("workloadSelector", object().field("matchLabels", selectorLabels()))
                                      .check(checkDestinationRule);
  return schema;
}

// --- Gateway --------------------------------------------------------------------------------

// Istio's protocol names, in any case.
enum class Protocol { kHttp, kHttps, kHttp2, kGrpc, kGrpcWeb, kHttpProxy, kTcp, kTls, kUdp, kMongo, kRedis, kMysql, kUnknown };

Protocol parseProtocol(std::string_view name) {
  static const std::pair<const char*, Protocol> kNames[] = {
      {"http", Protocol::kHttp},   {"https", Protocol::kHttps},          {"http2", Protocol::kHttp2},
      {"grpc", Protocol::kGrpc},   {"grpc-web", Protocol::kGrpcWeb},     {"http_proxy", Protocol::kHttpProxy},
      {"tcp", Protocol::kTcp},     {"tls", Protocol::kTls},              {"udp", Protocol::kUdp},
      {"mongo", Protocol::kMongo}, {"redis", Protocol::kRedis},          {"mysql", Protocol::kMysql},
  };
  for (const auto& [text, protocol] : kNames) {
    if (iequals(name, text)) return protocol;
  }
  return Protocol::kUnknown;
}

bool isHttpProtocol(Protocol p) {
  return p == Protocol::kHttp || p == Protocol::kHttp2 || p == Protocol::kHttpProxy || p == Protocol::kGrpc || p == Protocol::kGrpcWeb;
}

bool isTlsProtocol(Protocol p) { return p == Protocol::kHttps || p == Protocol::kTls; }

std::optional<std::string> checkProtocolName(std::string_view name) {
  if (parseProtocol(name) != Protocol::kUnknown) return std::nullopt;
  return fmt::format("unsupported protocol \"{}\": must be one of HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, HTTP_PROXY, TCP, TLS, UDP, MONGO, REDIS, MYSQL", name);
}

// Server hosts: "[namespace/]dnsName". The namespace is "*", "." or a name; the host is a
// full domain name, optionally with a leading "*." wildcard, "*" alone, or an IP address.
std::optional<std::string> checkServerHost(std::string_view entry) {
  std::string_view host = entry;
  if (auto slash = entry.find('/'); slash != std::string_view::npos) {
    std::string_view ns = entry.substr(0, slash);
    host = entry.substr(slash + 1);
    if (ns.empty() || host.empty()) return fmt::format("\"{}\": namespace and host must not be empty", entry);
    if (ns != "*" && ns != "." && !isIstioLabel(ns)) return fmt::format("\"{}\": \"{}\" is not a valid namespace", entry, ns);
  }
  if (host != "*" && host.find('.') == std::string_view::npos) {
    return fmt::format("\"{}\": short host names are not allowed; use a fully qualified name", entry);
  }
  if (!isIpAddress(host)) {
    if (auto why = checkWildcardDomain(host)) return why;
  }
  if (host.find('*') != std::string_view::npos && host != "*" && host.substr(0, 2) != "*.") {
    return fmt::format("\"{}\": a wildcard must be a whole leading label (\"*.example.com\")", entry);
  }
  return std::nullopt;
}

std::optional<std::string> checkUnixPath(std::string_view address) {
  std::string_view path = address.substr(7);  // after "unix://"
  if (path.empty() || (path[0] != '/' && path[0] != '@')) {
    return fmt::format("\"{}\": a unix:// address needs an absolute path or an @abstract socket name", address);
  }
  if (path.back() == '/') return fmt::format("\"{}\": a unix:// address must name a socket, not a directory", address);
  return std::nullopt;
}

bool isUnixAddress(std::string_view address) { return address.rfind("unix://", 0) == 0; }

void checkServer(const Site& s) {
  const auto* port = find(s.value, "port");
  if (port == nullptr) return;
  Site portSite = s.child("port");
  bool unixBind = isUnixAddress(stringAt(s.value, "bind"));
  if (auto number = intAt(*port, "number")) {
    if (*number == 0 && !unixBind) portSite.fieldError("number", "must be between 1 and 65535");
    if (*number != 0 && unixBind) portSite.fieldError("number", "must be 0 when bind is a unix:// address");
  }
  std::string_view protocolText = stringAt(*port, "protocol");
  Protocol protocol = parseProtocol(protocolText);
  if (protocol == Protocol::kUnknown) return;
  const auto* tls = find(s.value, "tls");
  if (isTlsProtocol(protocol)) {
    if (tls == nullptr) s.fieldError("tls", fmt::format("is required for protocol {}", protocolText));
    return;
  }
  if (tls == nullptr) return;
  if (!isHttpProtocol(protocol)) {
    s.fieldError("tls", fmt::format("is not allowed for protocol {}; only HTTPS and TLS servers take TLS settings", protocolText));
    return;
  }
  // A plain-text HTTP server may carry tls only to redirect to HTTPS.
  std::string_view mode = stringAt(*tls, "mode");
  bool passthrough = mode.empty() || mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH";
  if (!passthrough || present(*tls, "caCertificates") || present(*tls, "privateKey") || present(*tls, "serverCertificate")) {
    s.fieldError("tls", fmt::format("a plain-text {} server can only set tls.httpsRedirect", protocolText));
  }
}

void checkServerTls(const Site& s) {
  std::string_view mode = stringAt(s.value, "mode");
  if (mode == "ISTIO_MUTUAL") {
    for (const char* f : {"serverCertificate", "privateKey", "caCertificates", "tlsCertificates", "credentialName", "credentialNames"}) {
      if (present(s.value, f)) s.fieldError(f, "cannot be set with mode ISTIO_MUTUAL");
    }
    return;
  }
  int sources = (present(s.value, "serverCertificate") && present(s.value, "privateKey") ? 1 : 0) +
                (present(s.value, "credentialName") ? 1 : 0) + (present(s.value, "credentialNames") ? 1 : 0) +
                (present(s.value, "tlsCertificates") ? 1 : 0);
  if (sources > 1) s.error("only one of credentialName, credentialNames, serverCertificate/privateKey or tlsCertificates may be set");

  bool terminates = mode == "SIMPLE" || mode == "MUTUAL" || mode == "OPTIONAL_MUTUAL";
  if (terminates && (present(s.value, "credentialName") || present(s.value, "credentialNames"))) return;
  if (terminates && sources <= 1) {
    if (mode != "SIMPLE" && !present(s.value, "caCertificates")) {
      s.fieldError("caCertificates", fmt::format("is required for mode {} unless a credential is used", mode));
    }
    const auto* list = arrayAt(s.value, "tlsCertificates");
    if (list != nullptr && !list->empty()) {
      for (size_t i = 0; i < list->size(); ++i) {
        for (const char* f : {"serverCertificate", "privateKey"}) {
          if (!present((*list)[i], f)) itemSite(s.child("tlsCertificates"), i).fieldError(f, fmt::format("is required for mode {}", mode));
        }
      }
    } else {
      for (const char* f : {"serverCertificate", "privateKey"}) {
        if (!present(s.value, f)) s.fieldError(f, fmt::format("is required for mode {} unless a credential is used", mode));
      }
    }
  }
  if (present(s.value, "caCrl")) {
    if (present(s.value, "credentialName")) s.fieldError("caCrl", "cannot be used with credentialName; put the CRL in the credential");
    else if (mode == "SIMPLE") s.fieldError("caCrl", "is not used with mode SIMPLE");
  }
}

SchemaPtr serverTls() {
  auto tlsVersion = enumOf({"TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"});
  static const SchemaPtr schema =
      object()
          .field("httpsRedirect", boolean())
          .field("mode", enumOf({"PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"}))
          .field("serverCertificate", str())
          .field("privateKey", str())
          .field("caCertificates", str())
          .field("caCrl", str())
          .field("credentialName", str())
          .field("credentialNames", atMost(listOf(nonEmptyStr(), 1), 2))  // e.g. an RSA and an ECDSA certificate
          .field("caCertCredentialName", str())
          .field("tlsCertificates", atMost(listOf(object()
                                                      .field("serverCertificate", str())
                                                      .field("privateKey", str())
                                                      .field("caCertificates", str()),
                                                  1),
                                           2))
          .field("subjectAltNames", listOf(str()))
          .field("verifyCertificateSpki", listOf(str()))
          .field("verifyCertificateHash", listOf(str()))
          .field("minProtocolVersion", tlsVersion)
          .field("maxProtocolVersion", tlsVersion)
          .field("cipherSuites", listOf(str()))
          .field("insecureSkipVerify", boolean())
          .check(checkServerTls);
  return schema;
}

SchemaPtr server() {
  static const SchemaPtr port =
      object()
          .required("number", portOrZero())  // 0 only with a unix:// bind
          .required("protocol", strRule(checkProtocolName))
          .required("name", nonEmptyStr())
          .field("targetPort", withChecks(integer(0, UINT32_MAX), {[](const json::value& v) -> std::optional<std::string> {
                                              if (asInt(v) > 0) return "has no effect on Gateway servers; remove it";
                                              return std::nullopt;
                                            }}));
  static const SchemaPtr schema =
      object()
          .required("port", port)
          .required("hosts", listOf(strRule(checkServerHost), 1))
          .field("bind", strRule([](std::string_view bind) -> std::optional<std::string> {
                   if (isUnixAddress(bind)) return checkUnixPath(bind);
                   if (isIpAddress(bind)) return std::nullopt;
                   return fmt::format("\"{}\" is not an IP address or a unix:// path", bind);
                 }))
          .field("defaultEndpoint", str())
          .field("tls", serverTls())
          .field("name", str())
          .check(checkServer);
  return schema;
}

SchemaPtr gatewaySpec() {
  static const SchemaPtr schema = object()
                                      .required("servers", listOf(server(), 1))
                                      .field("selector", labelMap())
                                      .check([](const Site& s) {
                                        // Port names key the listeners istiod builds.
                                        const auto* servers = arrayAt(s.value, "servers");
                                        std::set<std::string_view> names;
                                        for (size_t i = 0; servers != nullptr && i < servers->size(); ++i) {
                                          const auto* port = find((*servers)[i], "port");
                                          std::string_view name = port != nullptr ? stringAt(*port, "name") : std::string_view();
                                          if (!name.empty() && !names.insert(name).second) {
                                            itemSite(s.child("servers"), i).child("port").fieldError("name", fmt::format("duplicate port name \"{}\"", name));
                                          }
                                        }
                                      });
  return schema;
}

// --- WorkloadEntry and ServiceEntry ------------------------------------------------------------

std::optional<std::string> checkEndpointAddress(std::string_view address) {
  if (address.empty()) return std::nullopt;  // "required unless network" is checked by the object
  if (isUnixAddress(address)) return checkUnixPath(address);
  if (isIpAddress(address) || !checkFqdn(address)) return std::nullopt;
  return fmt::format("\"{}\" is not a valid IP address or host name", address);
}

std::optional<std::string> checkPortName(std::string_view name) {
  if (isIstioLabel(name) && name.size() < 63) return std::nullopt;
  return fmt::format("\"{}\" is not a valid port name", name);
}

SchemaPtr workloadEntrySpec() {
  static const SchemaPtr schema =
      object()
          .field("address", maxLength(strRule(checkEndpointAddress), 256))
          .field("ports", atMost(mapOf(portNumber(), stringRule(checkPortName)), 128))
          .field("labels", atMost(labelMap(), 256))
          .field("network", maxLength(str(), 2048))
          .field("locality", maxLength(str(), 2048))
          .field("weight", uint32())
          .field("serviceAccount", maxLength(str(), 253))
          .check([](const Site& s) {
            if (!present(s.value, "address") && !present(s.value, "network")) s.fieldError("address", "is required unless network is set");
            if (isUnixAddress(stringAt(s.value, "address")) && find(s.value, "ports") != nullptr) {
              s.fieldError("ports", "must not be set for a unix:// address");
            }
          });
  return schema;
}

SchemaPtr serviceEntryHost() {
  static const SchemaPtr schema = strRule([](std::string_view host) -> std::optional<std::string> {
    if (host == "*") return std::string("\"*\" is not allowed; use specific hosts or a wildcard domain such as \"*.example.com\"");
    return checkWildcardDomain(host);
  });
  return schema;
}

// The endpoint port names must be among the ServiceEntry's own ports.
void checkEndpointPorts(const Site& endpoint, const std::set<std::string_view>& servicePorts) {
  const auto* ports = objectAt(endpoint.value, "ports");
  if (ports == nullptr) return;
  for (const auto& [name, number] : *ports) {
    if (servicePorts.count(name) == 0) entrySite(endpoint.child("ports"), name).error(fmt::format("port \"{}\" is not defined in spec.ports", std::string_view(name)));
  }
}

void checkServiceEntry(const Site& s) {
  std::string_view resolution = stringAt(s.value, "resolution");
  if (resolution.empty()) resolution = "NONE";
  const auto* hosts = arrayAt(s.value, "hosts");
  const auto* ports = arrayAt(s.value, "ports");
  const auto* endpoints = arrayAt(s.value, "endpoints");
  const auto* addresses = arrayAt(s.value, "addresses");

  std::set<std::string_view> portNames;
  std::set<int64_t> portNumbers;
  for (size_t i = 0; ports != nullptr && i < ports->size(); ++i) {
    std::string_view name = stringAt((*ports)[i], "name");
    if (!name.empty() && !portNames.insert(name).second) {
      itemSite(s.child("ports"), i).fieldError("name", fmt::format("duplicate port name \"{}\"", name));
    }
    auto number = intAt((*ports)[i], "number");
    if (number && !portNumbers.insert(*number).second) {
      itemSite(s.child("ports"), i).fieldError("number", fmt::format("duplicate port number {}", *number));
    }
  }

  for (size_t i = 0; addresses != nullptr && i < addresses->size(); ++i) {
    const auto& a = (*addresses)[i];
    if (a.is_string() && a.get_string().find('/') != json::string::npos && resolution != "NONE" && resolution != "STATIC") {
      itemSite(s.child("addresses"), i).error("CIDR addresses are allowed only with resolution NONE or STATIC");
      break;
    }
  }

  auto endpointSite = [&](size_t i) { return itemSite(s.child("endpoints"), i); };
  if (resolution == "NONE") {
    if (find(s.value, "endpoints") != nullptr) s.fieldError("endpoints", "must not be set when resolution is NONE");
  } else if (resolution == "STATIC") {
    for (size_t i = 0; endpoints != nullptr && i < endpoints->size(); ++i) {
      std::string_view address = stringAt((*endpoints)[i], "address");
      if (!address.empty() && !isUnixAddress(address) && !isIpAddress(address) && !checkEndpointAddress(address)) {
        endpointSite(i).fieldError("address", fmt::format("\"{}\" is not an IP address; resolution STATIC needs IP or unix:// addresses", address));
      }
      if (isUnixAddress(address) && portNames.size() != 1) endpointSite(i).fieldError("address", "a unix:// endpoint needs exactly one port in spec.ports");
      checkEndpointPorts(endpointSite(i), portNames);
    }
  } else if (resolution == "DNS" || resolution == "DNS_ROUND_ROBIN") {
    if (endpoints == nullptr || endpoints->empty()) {
      // Without endpoints the hosts themselves are resolved, so they must be real names.
      for (size_t i = 0; hosts != nullptr && i < hosts->size(); ++i) {
        const auto& h = (*hosts)[i];
        if (h.is_string() && !checkWildcardDomain(std::string_view(h.get_string())) && checkFqdn(std::string_view(h.get_string()))) {
          itemSite(s.child("hosts"), i).error(fmt::format("wildcard hosts need endpoints when resolution is {}", resolution));
          break;
        }
      }
    }
    if (resolution == "DNS_ROUND_ROBIN" && endpoints != nullptr && endpoints->size() > 1) {
      s.fieldError("endpoints", "resolution DNS_ROUND_ROBIN allows at most one endpoint");
    }
    for (size_t i = 0; endpoints != nullptr && i < endpoints->size(); ++i) {
      if (isUnixAddress(stringAt((*endpoints)[i], "address"))) {
        endpointSite(i).fieldError("address", fmt::format("unix:// addresses need resolution STATIC, not {}", resolution));
      }
      checkEndpointPorts(endpointSite(i), portNames);
    }
  } else if (resolution == "DYNAMIC_DNS") {
    for (size_t i = 0; hosts != nullptr && i < hosts->size(); ++i) {
      const auto& h = (*hosts)[i];
      if (h.is_string() && (h.get_string().empty() || h.get_string()[0] != '*')) {
        itemSite(s.child("hosts"), i).error("must be a wildcard host when resolution is DYNAMIC_DNS");
      }
    }
    if (present(s.value, "addresses")) s.fieldError("addresses", "must not be set when resolution is DYNAMIC_DNS");
    if (present(s.value, "endpoints")) s.fieldError("endpoints", "must not be set when resolution is DYNAMIC_DNS");
    for (size_t i = 0; ports != nullptr && i < ports->size(); ++i) {
      Protocol p = parseProtocol(stringAt((*ports)[i], "protocol"));
      if (p != Protocol::kHttp && p != Protocol::kTls && p != Protocol::kGrpc && p != Protocol::kHttp2) {
        itemSite(s.child("ports"), i).fieldError("protocol", "must be HTTP, HTTP2, GRPC or TLS when resolution is DYNAMIC_DNS");
      }
    }
  }

  // Plain TCP carries no host name, so a proxy could not tell several hosts apart.
  if (resolution != "NONE" && hosts != nullptr && hosts->size() > 1 && ports != nullptr) {
    for (const auto& port : *ports) {
      Protocol p = parseProtocol(stringAt(port, "protocol"));
      if (!isHttpProtocol(p) && !isTlsProtocol(p)) {
        s.fieldError("hosts", "several hosts need every port to be HTTP or TLS, unless resolution is NONE");
        break;
      }
    }
  }
}

SchemaPtr serviceEntrySpec() {
  static const SchemaPtr port =
      object()
          .required("number", portNumber())
          .required("name", strRule(checkPortName))
          .field("protocol", strRule([](std::string_view name) -> std::optional<std::string> {
                   if (name.empty()) return std::nullopt;  // empty: detect the protocol
                   return checkProtocolName(name);
                 }))
          .field("targetPort", portNumber());
  static const SchemaPtr schema =
      object()
          .required("hosts", atMost(listOf(serviceEntryHost(), 1), 256))
          .field("addresses", atMost(listOf(maxLength(ipOrCidr(), 64)), 256))
          .field("ports", atMost(listOf(port), 256))
          .field("location", enumOf({"MESH_EXTERNAL", "MESH_INTERNAL"}))
          .field("resolution", enumOf({"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"}))
          .field("endpoints", atMost(listOf(workloadEntrySpec()), 4096))
          .field("workloadSelector", object().field("labels", selectorLabels()))
          .field("exportTo", exportTo(true))
          .field("subjectAltNames", listOf(str()))
          .oneOf({"workloadSelector", "endpoints"})
          .check(checkServiceEntry);
  return schema;
}

SchemaPtr body(const SchemaPtr& spec, bool specRequired) {
  auto builder = object();
  if (specRequired) {
    builder.required("spec", spec);
  } else {
    builder.field("spec", spec);
  }
  return builder.field("status", preservedStatus());
}

KindInfo networkingKind(std::string kind, std::string plural, std::string shortName, SchemaPtr spec, bool specRequired) {
  // All three versions serve one schema; v1 is stored (since Istio 1.27).
  return KindInfo{
      .group = "networking.istio.io",
      .kind = std::move(kind),
      .versions = {"v1", "v1alpha3", "v1beta1"},
      .storageVersion = "v1",
      .plural = std::move(plural),
      .shortNames = {std::move(shortName)},
      .namespaced = true,
      .body = body(spec, specRequired),
  };
}

}  // namespace

void addNetworkingKinds(std::vector<KindInfo>& kinds) {
  // ServiceEntry and WorkloadEntry CRDs require spec; the others do not.
  kinds.push_back(networkingKind("VirtualService", "virtualservices", "vs", virtualServiceSpec(), false));
  kinds.push_back(networkingKind("DestinationRule", "destinationrules", "dr", destinationRuleSpec(), false));
  kinds.push_back(networkingKind("Gateway", "gateways", "gw", gatewaySpec(), false));
  kinds.push_back(networkingKind("ServiceEntry", "serviceentries", "se", serviceEntrySpec(), true));
  kinds.push_back(networkingKind("WorkloadEntry", "workloadentries", "we", workloadEntrySpec(), true));
}

}  // namespace weft::model
