#include "model/schema_rules.h"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>
#include <utility>

#include "base/duration.h"

namespace weft::model {
namespace {

namespace json = boost::json;

}  // namespace

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

std::optional<std::string> compileRegex(std::string_view re) {
  RE2::Options options;
  options.set_log_errors(false);
  RE2 compiled(re, options);
  if (!compiled.ok()) return fmt::format("invalid RE2 regular expression: {}", compiled.error());
  return std::nullopt;
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

namespace {

// A first label that may be a wildcard: "*", "*foo", "*-foo" or a plain label.
bool isWildcardLabel(std::string_view s) {
  if (s == "*") return true;
  if (s.size() > 63) return false;
  if (s.substr(0, 2) == "*-") return isIstioLabel(s.substr(2));
  if (s.substr(0, 1) == "*") return isIstioLabel(s.substr(1));
  return isIstioLabel(s);
}

}  // namespace

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

SchemaPtr ipOrCidr() {
  static const SchemaPtr schema = strRule(checkIpOrCidr);
  return schema;
}

namespace {

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

}  // namespace

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

// --- protocols and unix sockets -----------------------------------------------------------

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

std::optional<std::string> checkUnixPath(std::string_view address) {
  std::string_view path = address.substr(7);  // after "unix://"
  if (path.empty() || (path[0] != '/' && path[0] != '@')) {
    return fmt::format("\"{}\": a unix:// address needs an absolute path or an @abstract socket name", address);
  }
  if (path.back() == '/') return fmt::format("\"{}\": a unix:// address must name a socket, not a directory", address);
  return std::nullopt;
}

bool isUnixAddress(std::string_view address) { return address.rfind("unix://", 0) == 0; }

// --- HTTP header names and values ----------------------------------------------------------

namespace {

bool isTokenChar(char c) { return isAlnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos; }

}  // namespace

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
    return compileRegex(re);
  });
}

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

}  // namespace weft::model
