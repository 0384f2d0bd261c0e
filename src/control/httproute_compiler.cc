#include "control/httproute_compiler.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <boost/json.hpp>
#include <tuple>

#include "base/ascii.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::durationMsAt;
using model::intAt;
using model::Object;
using model::stringAt;

namespace {

// "https://*.example.com" as a whole-string RE2 pattern ("*" alone: any origin).
std::string originPattern(const std::string& origin) {
  std::string pattern;
  size_t start = 0;
  for (size_t star = origin.find('*'); star != std::string::npos; star = origin.find('*', start)) {
    pattern += regexQuote(origin.substr(start, star - start)) + ".*";
    start = star + 1;
  }
  return pattern + regexQuote(origin.substr(start));
}

// A PathPrefix value without its trailing "/" (which the Gateway API ignores), "/" kept.
std::string normalizedPrefix(std::string prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  return prefix.empty() ? "/" : prefix;
}

const json::value* filterOfType(const json::value& rule, std::string_view type, const char* field) {
  for (const auto& f : arrayAt(rule, {"filters"})) {
    if (stringAt(f, {"type"}) == type) return &at(f, {field});
  }
  return nullptr;
}

// The URLRewrite or RequestRedirect path modifier of the given type, when the rule has one.
std::optional<std::string> pathReplacement(const json::value& rule, std::string_view type) {
  for (auto [filter, field] : {std::pair{"URLRewrite", "urlRewrite"}, std::pair{"RequestRedirect", "requestRedirect"}}) {
    const json::value* spec = filterOfType(rule, filter, field);
    if (spec == nullptr || stringAt(*spec, {"path", "type"}) != type) continue;
    return stringAt(*spec, {"path", type == "ReplaceFullPath" ? "replaceFullPath" : "replacePrefixMatch"});
  }
  return std::nullopt;
}

}  // namespace

bool RoutePrecedence::before(const RoutePrecedence& o) const {
  auto specificity = [](const RoutePrecedence& p) {
    return std::make_tuple(-p.pathRank, -static_cast<int64_t>(p.pathLength), !p.method, -static_cast<int64_t>(p.headers),
                           -static_cast<int64_t>(p.queryParams));
  };
  if (specificity(*this) != specificity(o)) return specificity(*this) < specificity(o);
  return std::tie(created, route, rule, match, part) < std::tie(o.created, o.route, o.rule, o.match, o.part);
}

std::vector<CompiledHttpRoute> HttpRouteCompiler::compile(const Object& route, const ListenerContext& listener) const {
  std::vector<CompiledHttpRoute> out;
  const std::string created = stringAt(route.value(), {"metadata", "creationTimestamp"});
  const std::string routeKey = route.ns() + "/" + route.name();
  size_t ruleIndex = 0;
  for (const auto& rule : arrayAt(route.value(), {"spec", "rules"})) {
    std::string where = fmt::format("spec.rules[{}]", ruleIndex);
    std::string ruleName = stringAt(rule, {"name"});
    weft::v1::Route base;
    base.set_name(fmt::format("{}/{}", routeKey, ruleName.empty() ? std::to_string(ruleIndex) : ruleName));
    if (!compileRule(route, rule, where, listener, base)) {
      // Served as written or not at all: the rule's requests get the Gateway API's 500.
      std::string name = base.name();
      base.Clear();
      base.set_name(name);
      base.mutable_direct_response()->set_status(500);
    }
    const bool fullPathRewrite = base.has_route() && pathReplacement(rule, "ReplaceFullPath").has_value();
    const auto prefixRewrite = base.has_route() ? pathReplacement(rule, "ReplacePrefixMatch") : std::nullopt;

    static const json::value kDefaultMatch = json::parse(R"({"path":{"type":"PathPrefix","value":"/"}})");
    const auto& written = arrayAt(rule, {"matches"});
    std::vector<const json::value*> matches;
    for (const auto& m : written) matches.push_back(&m);
    if (matches.empty()) matches.push_back(&kDefaultMatch);

    for (size_t m = 0; m < matches.size(); ++m) {
      const json::value& match = *matches[m];
      weft::v1::Route compiled = base;
      auto* rm = compiled.mutable_match();
      RoutePrecedence precedence{.created = created, .route = routeKey, .rule = ruleIndex, .match = m};
      for (const auto& header : arrayAt(match, {"headers"})) {
        auto* h = rm->add_headers();
        h->set_name(asciiLower(stringAt(header, {"name"})));
        if (stringAt(header, {"type"}) == "RegularExpression") {
          h->mutable_match()->set_regex(stringAt(header, {"value"}));
        } else {
          h->mutable_match()->set_exact(stringAt(header, {"value"}));
        }
      }
      for (const auto& param : arrayAt(match, {"queryParams"})) {
        auto* q = rm->add_query_params();
        q->set_name(stringAt(param, {"name"}));
        if (stringAt(param, {"type"}) == "RegularExpression") {
          q->mutable_match()->set_regex(stringAt(param, {"value"}));
        } else {
          q->mutable_match()->set_exact(stringAt(param, {"value"}));
        }
      }
      if (std::string method = stringAt(match, {"method"}); !method.empty()) rm->mutable_method()->set_exact(method);
      precedence.method = rm->has_method();
      precedence.headers = static_cast<size_t>(rm->headers_size());
      precedence.queryParams = static_cast<size_t>(rm->query_params_size());

      std::string pathType = stringAt(match, {"path", "type"});
      std::string value = stringAt(match, {"path", "value"});
      if (pathType.empty()) pathType = "PathPrefix";
      if (value.empty()) value = "/";
      if (pathType == "Exact" || pathType == "RegularExpression") {
        bool exact = pathType == "Exact";
        exact ? rm->mutable_path()->set_exact(value) : rm->mutable_path()->set_regex(value);
        precedence.pathRank = exact ? 3 : 1;
        precedence.pathLength = value.size();
        if (prefixRewrite) compiled.mutable_route()->mutable_rewrite()->set_uri_prefix(prefixRewrite->empty() ? "/" : *prefixRewrite);
        out.push_back({std::move(compiled), precedence});
        continue;
      }
      std::string prefix = normalizedPrefix(value);
      precedence.pathRank = 2;
      precedence.pathLength = prefix.size();
      if (fullPathRewrite) {
        // The rewrite replaces the whole path only for non-prefix matches (the proxy's
        // rule, as Envoy's prefix_rewrite): match the same paths with a regex instead.
        rm->mutable_path()->set_regex(prefix == "/" ? "/.*" : regexQuote(prefix) + "(/.*)?");
        out.push_back({std::move(compiled), precedence});
        continue;
      }
      // "/foo": the path itself, then everything below it.
      std::string replacement = prefixRewrite ? (prefixRewrite->empty() ? "/" : *prefixRewrite) : "";
      if (prefix != "/" || prefixRewrite) {
        weft::v1::Route exactPart = compiled;
        exactPart.mutable_match()->mutable_path()->set_exact(prefix);
        if (prefixRewrite) exactPart.mutable_route()->mutable_rewrite()->set_uri_prefix(replacement);
        out.push_back({std::move(exactPart), precedence});
      }
      rm->mutable_path()->set_prefix(prefix == "/" ? "/" : prefix + "/");
      if (prefixRewrite) {
        compiled.mutable_route()->mutable_rewrite()->set_uri_prefix(replacement.ends_with('/') ? replacement : replacement + "/");
      }
      precedence.part = 1;
      out.push_back({std::move(compiled), precedence});
    }
    ++ruleIndex;
  }
  return out;
}

bool HttpRouteCompiler::compileRule(const Object& route, const json::value& rule, const std::string& where, const ListenerContext& listener,
                                    weft::v1::Route& base) const {
  const json::value* redirect = nullptr;
  const json::value* rewrite = nullptr;
  const json::value* cors = nullptr;
  std::vector<const json::value*> mirrors;
  size_t index = 0;
  for (const auto& filter : arrayAt(rule, {"filters"})) {
    std::string type = stringAt(filter, {"type"});
    std::string fwhere = fmt::format("{}.filters[{}]", where, index++);
    if (type == "RequestHeaderModifier") {
      compileHeaderModifier(at(filter, {"requestHeaderModifier"}), *base.mutable_request_headers());
    } else if (type == "ResponseHeaderModifier") {
      compileHeaderModifier(at(filter, {"responseHeaderModifier"}), *base.mutable_response_headers());
    } else if (type == "RequestRedirect") {
      redirect = &at(filter, {"requestRedirect"});
    } else if (type == "URLRewrite") {
      rewrite = &at(filter, {"urlRewrite"});
    } else if (type == "RequestMirror") {
      mirrors.push_back(&at(filter, {"requestMirror"}));
    } else if (type == "CORS") {
      cors = &at(filter, {"cors"});
    } else {
      unservedRule(route, fmt::format("{}: filter type {} is not supported: the rule answers 500", fwhere, type));
      return false;
    }
  }
  if (redirect != nullptr) {
    if (stringAt(*redirect, {"path", "type"}) == "ReplacePrefixMatch") {
      unservedRule(route, fmt::format("{}: a RequestRedirect with path ReplacePrefixMatch is not served yet: the rule answers 500", where));
      return false;
    }
    auto* r = base.mutable_redirect();
    std::string scheme = stringAt(*redirect, {"scheme"});
    std::string effective = scheme.empty() ? (listener.https ? "https" : "http") : scheme;
    auto port = static_cast<uint32_t>(intAt(*redirect, {"port"}));
    // No port: the scheme's own (left out), or, when the scheme is kept, the listener's.
    if (port == 0 && scheme.empty()) port = listener.port;
    if ((effective == "http" && port == 80) || (effective == "https" && port == 443)) port = 0;
    r->set_scheme(effective);
    r->set_port(port);
    r->set_authority(stringAt(*redirect, {"hostname"}));
    if (stringAt(*redirect, {"path", "type"}) == "ReplaceFullPath") {
      std::string path = stringAt(*redirect, {"path", "replaceFullPath"});
      r->set_uri(path.empty() ? "/" : path);
    }
    auto code = intAt(*redirect, {"statusCode"});
    r->set_code(code > 0 ? static_cast<uint32_t>(code) : 302);
    return true;
  }
  for (const auto& backend : arrayAt(rule, {"backendRefs"})) {
    if (!arrayAt(backend, {"filters"}).empty()) {
      unservedRule(route, fmt::format("{}: filters on a backendRef are not served yet: the rule answers 500", where));
      return false;
    }
  }
  compileBackends(route, rule, where, base);
  if (!base.has_route()) return true;  // a 500 for want of a usable backend
  auto* action = base.mutable_route();
  auto timeout = durationMsAt(rule, {"timeouts", "request"});
  auto perTry = durationMsAt(rule, {"timeouts", "backendRequest"});
  if (!timeout || !perTry) {
    unservedRule(route, fmt::format("{}.timeouts: {}: the rule answers 500", where, (!timeout ? timeout : perTry).error().message));
    return false;
  }
  action->set_timeout_ms(*timeout);
  auto* retries = action->mutable_retries();
  retries->set_attempts(kDefaultRetryAttempts);
  retries->set_retry_on(kDefaultRetryOn);
  retries->set_per_try_timeout_ms(*perTry);
  if (at(rule, {"retry"}).is_object()) {
    if (auto attempts = intAt(rule, {"retry", "attempts"}); attempts > 0) retries->set_attempts(static_cast<uint32_t>(attempts));
    // The proxy retries 503 as a retriable status and any 5xx with "5xx".
    bool other5xx = false;
    for (const auto& code : arrayAt(rule, {"retry", "codes"})) {
      if (code.is_int64() && code.get_int64() >= 500 && code.get_int64() != 503) other5xx = true;
      if (code.is_int64() && code.get_int64() < 500) note_(route, fmt::format("{}.retry.codes: {} is not retried (only 5xx are)", where, code.get_int64()));
    }
    if (other5xx) retries->set_retry_on(std::string(kDefaultRetryOn) + ",5xx");
  }
  if (rewrite != nullptr) {
    action->mutable_rewrite()->set_authority(stringAt(*rewrite, {"hostname"}));
    if (stringAt(*rewrite, {"path", "type"}) == "ReplaceFullPath") {
      std::string path = stringAt(*rewrite, {"path", "replaceFullPath"});
      action->mutable_rewrite()->set_uri_prefix(path.empty() ? "/" : path);
    }  // ReplacePrefixMatch depends on the match: set per compiled route.
  }
  for (const auto* mirror : mirrors) compileMirror(route, *mirror, where, base);
  if (cors != nullptr) {
    auto* out = base.mutable_cors();
    for (const auto& origin : arrayAt(*cors, {"allowOrigins"})) {
      if (!origin.is_string()) continue;
      std::string o(origin.get_string());
      if (o.find('*') == std::string::npos) {
        out->add_allow_origins()->set_exact(o);
      } else {
        out->add_allow_origins()->set_regex(originPattern(o));
      }
    }
    for (auto [field, target] : {std::pair{"allowMethods", out->mutable_allow_methods()}, std::pair{"allowHeaders", out->mutable_allow_headers()},
                                 std::pair{"exposeHeaders", out->mutable_expose_headers()}}) {
      for (const auto& v : arrayAt(*cors, {field})) {
        if (v.is_string()) target->Add(std::string(v.get_string()));
      }
    }
    auto maxAge = intAt(*cors, {"maxAge"});
    out->set_max_age_s(maxAge > 0 ? static_cast<uint32_t>(maxAge) : 5);  // the Gateway API's default
    out->set_allow_credentials(at(*cors, {"allowCredentials"}) == json::value(true));
  }
  return true;
}

void HttpRouteCompiler::compileBackends(const Object& route, const json::value& rule, const std::string& where, weft::v1::Route& base) const {
  struct Weighted {
    std::string host;
    uint32_t port;
    uint32_t weight;
  };
  std::vector<Weighted> backends;
  bool usable = false;
  size_t index = 0;
  for (const auto& backend : arrayAt(rule, {"backendRefs"})) {
    std::string bwhere = fmt::format("{}.backendRefs[{}]", where, index++);
    auto weight = at(backend, {"weight"}).is_null() ? 1 : intAt(backend, {"weight"});
    auto resolved = resolve_(route, backend);
    if (resolved.state == ResolvedBackend::State::kRefused) {
      note_(route, fmt::format("{}: {}", bwhere, resolved.why));
      continue;
    }
    if (weight <= 0) continue;
    backends.push_back({resolved.host, static_cast<uint32_t>(intAt(backend, {"port"})), static_cast<uint32_t>(weight)});
    usable = usable || resolved.state == ResolvedBackend::State::kService;
  }
  if (!usable) {
    note_(route, fmt::format("{}: no backendRef names an existing Service with a weight above 0: the rule answers 500", where));
    base.mutable_direct_response()->set_status(500);
    return;
  }
  // Clusters are made only for rules that use them (a missing Service's is made here too,
  // without endpoints: its share answers 503).
  auto* action = base.mutable_route();
  for (const auto& b : backends) {
    auto* wc = action->add_clusters();
    wc->set_cluster(clusterFor_(route, b.host, b.port, ""));
    wc->set_weight(b.weight);
  }
}

void HttpRouteCompiler::compileMirror(const Object& route, const json::value& mirror, const std::string& where, weft::v1::Route& base) const {
  auto resolved = resolve_(route, at(mirror, {"backendRef"}));
  if (resolved.state != ResolvedBackend::State::kService) {
    note_(route, fmt::format("{}: RequestMirror to {}: no mirror", where, resolved.why.empty() ? resolved.host : resolved.why));
    return;
  }
  double percent = 100;
  if (!at(mirror, {"percent"}).is_null()) percent = static_cast<double>(intAt(mirror, {"percent"}));
  if (at(mirror, {"fraction"}).is_object()) {
    auto denominator = intAt(mirror, {"fraction", "denominator"});
    percent = 100.0 * static_cast<double>(intAt(mirror, {"fraction", "numerator"})) / static_cast<double>(denominator > 0 ? denominator : 100);
  }
  auto* m = base.add_mirrors();
  m->set_cluster(clusterFor_(route, resolved.host, static_cast<uint32_t>(intAt(mirror, {"backendRef", "port"})), ""));
  m->set_percent(std::clamp(percent, 0.0, 100.0));
}

void compileHeaderModifier(const json::value& spec, weft::v1::HeaderOperations& out) {
  for (const char* field : {"set", "add"}) {
    auto& target = std::string_view(field) == "set" ? *out.mutable_set() : *out.mutable_add();
    for (const auto& header : arrayAt(spec, {field})) target[asciiLower(stringAt(header, {"name"}))] = stringAt(header, {"value"});
  }
  for (const auto& name : arrayAt(spec, {"remove"})) {
    if (name.is_string()) out.add_remove(asciiLower(std::string(name.get_string())));
  }
}

std::string regexQuote(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view(R"(\.+*?()|[]{}^$)").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace weft::control
