#include "control/grpcroute_compiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "base/ascii.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::Object;
using model::stringAt;

namespace {

// The method match as a path match on `match`, and its rank for precedence (3 exact, 2
// prefix, 1 regex, 0 none) with the length of what it matches.
void pathMatch(const json::value& method, weft::v1::StringMatch& out, RoutePrecedence& precedence) {
  std::string service = stringAt(method, {"service"});
  std::string name = stringAt(method, {"method"});
  bool regex = stringAt(method, {"type"}) == "RegularExpression";
  std::string value;
  if (regex) {
    value = fmt::format("/{}/{}", service.empty() ? "[^/]+" : service, name.empty() ? "[^/]+" : name);
    out.set_regex(value);
    precedence.pathRank = 1;
  } else if (name.empty()) {
    value = fmt::format("/{}/", service);
    out.set_prefix(value);
    precedence.pathRank = 2;
  } else if (service.empty()) {
    value = fmt::format("/[^/]+/{}", regexQuote(name));
    out.set_regex(value);
    precedence.pathRank = 1;
  } else {
    value = fmt::format("/{}/{}", service, name);
    out.set_exact(value);
    precedence.pathRank = 3;
  }
  precedence.pathLength = value.size();
}

}  // namespace

std::vector<CompiledHttpRoute> GrpcRouteCompiler::compile(const Object& route, std::set<std::string>& http2Clusters) const {
  std::vector<CompiledHttpRoute> out;
  const std::string created = stringAt(route.value(), {"metadata", "creationTimestamp"});
  const std::string routeKey = route.ns() + "/" + route.name();
  size_t ruleIndex = 0;
  for (const auto& rule : arrayAt(route.value(), {"spec", "rules"})) {
    std::string where = fmt::format("spec.rules[{}]", ruleIndex);
    std::string ruleName = stringAt(rule, {"name"});
    weft::v1::Route base;
    base.set_name(fmt::format("{}/{}", routeKey, ruleName.empty() ? std::to_string(ruleIndex) : ruleName));
    if (!compileRule(route, rule, where, base, http2Clusters)) {
      std::string name = base.name();
      base.Clear();
      base.set_name(name);
      base.mutable_direct_response()->set_status(500);
    }
    static const json::value kAnyMatch = json::object{};
    std::vector<const json::value*> matches;
    for (const auto& m : arrayAt(rule, {"matches"})) matches.push_back(&m);
    if (matches.empty()) matches.push_back(&kAnyMatch);
    for (size_t m = 0; m < matches.size(); ++m) {
      const json::value& match = *matches[m];
      weft::v1::Route compiled = base;
      auto* rm = compiled.mutable_match();
      RoutePrecedence precedence{.created = created, .route = routeKey, .rule = ruleIndex, .match = m};
      if (at(match, {"method"}).is_object()) {
        pathMatch(at(match, {"method"}), *rm->mutable_path(), precedence);
      } else {
        rm->mutable_path()->set_prefix("/");  // every method of every service
        precedence.pathRank = 2;
        precedence.pathLength = 1;
      }
      for (const auto& header : arrayAt(match, {"headers"})) {
        auto* h = rm->add_headers();
        h->set_name(asciiLower(stringAt(header, {"name"})));
        if (stringAt(header, {"type"}) == "RegularExpression") {
          h->mutable_match()->set_regex(stringAt(header, {"value"}));
        } else {
          h->mutable_match()->set_exact(stringAt(header, {"value"}));
        }
      }
      precedence.headers = static_cast<size_t>(rm->headers_size());
      out.push_back({std::move(compiled), precedence});
    }
    ++ruleIndex;
  }
  return out;
}

bool GrpcRouteCompiler::compileRule(const Object& route, const json::value& rule, const std::string& where, weft::v1::Route& base,
                                    std::set<std::string>& http2Clusters) const {
  std::vector<const json::value*> mirrors;
  size_t index = 0;
  for (const auto& filter : arrayAt(rule, {"filters"})) {
    std::string type = stringAt(filter, {"type"});
    std::string fwhere = fmt::format("{}.filters[{}]", where, index++);
    if (type == "RequestHeaderModifier") {
      compileHeaderModifier(at(filter, {"requestHeaderModifier"}), *base.mutable_request_headers());
    } else if (type == "ResponseHeaderModifier") {
      compileHeaderModifier(at(filter, {"responseHeaderModifier"}), *base.mutable_response_headers());
    } else if (type == "RequestMirror") {
      mirrors.push_back(&at(filter, {"requestMirror"}));
    } else {
      unservedRule(route, fmt::format("{}: filter type {} is not supported for GRPCRoute: the rule answers 500", fwhere, type));
      return false;
    }
  }
  struct Weighted {
    std::string host;
    uint32_t port;
    uint32_t weight;
  };
  std::vector<Weighted> backends;
  bool usable = false;
  index = 0;
  for (const auto& backend : arrayAt(rule, {"backendRefs"})) {
    std::string bwhere = fmt::format("{}.backendRefs[{}]", where, index++);
    if (!arrayAt(backend, {"filters"}).empty()) {
      unservedRule(route, fmt::format("{}: filters on a backendRef are not served yet: the rule answers 500", bwhere));
      return false;
    }
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
    return false;
  }
  auto* action = base.mutable_route();
  for (const auto& b : backends) {
    auto* wc = action->add_clusters();
    wc->set_cluster(clusterFor_(route, b.host, b.port, ""));
    wc->set_weight(b.weight);
    http2Clusters.insert(wc->cluster());
  }
  auto* retries = action->mutable_retries();
  retries->set_attempts(kDefaultRetryAttempts);
  retries->set_retry_on(kDefaultRetryOn);
  for (const auto* mirror : mirrors) {
    auto resolved = resolve_(route, at(*mirror, {"backendRef"}));
    if (resolved.state != ResolvedBackend::State::kService) {
      note_(route, fmt::format("{}: RequestMirror to {}: no mirror", where, resolved.why.empty() ? resolved.host : resolved.why));
      continue;
    }
    double percent = 100;
    if (!at(*mirror, {"percent"}).is_null()) percent = static_cast<double>(intAt(*mirror, {"percent"}));
    if (at(*mirror, {"fraction"}).is_object()) {
      auto denominator = intAt(*mirror, {"fraction", "denominator"});
      percent = 100.0 * static_cast<double>(intAt(*mirror, {"fraction", "numerator"})) / static_cast<double>(denominator > 0 ? denominator : 100);
    }
    auto* m = base.add_mirrors();
    m->set_cluster(clusterFor_(route, resolved.host, static_cast<uint32_t>(intAt(*mirror, {"backendRef", "port"})), ""));
    m->set_percent(std::clamp(percent, 0.0, 100.0));
    http2Clusters.insert(m->cluster());
  }
  return true;
}

}  // namespace weft::control
