#include "control/route_compiler.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <boost/json.hpp>

#include "base/ascii.h"
#include "control/host_names.h"
#include "model/gateway_names.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::durationMsAt;
using model::intAt;
using model::numberAt;
using model::Object;
using model::stringAt;

namespace {

// gRPC's status names (its doc/statuscodes.md), as VirtualService fault.abort.grpcStatus
// spells them.
std::optional<uint32_t> grpcStatusCode(std::string_view name) {
  static constexpr std::string_view kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                                                "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                                "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                                "UNAUTHENTICATED"};
  for (uint32_t code = 0; code < std::size(kNames); ++code) {
    if (kNames[code] == name) return code;
  }
  return std::nullopt;
}

void headerOperations(const json::value& spec, weft::v1::HeaderOperations& out) {
  for (const char* field : {"set", "add"}) {
    const auto& m = at(spec, {field});
    if (!m.is_object()) continue;
    for (const auto& [key, value] : m.get_object()) {
      if (!value.is_string()) continue;
      auto& target = std::string_view(field) == "set" ? *out.mutable_set() : *out.mutable_add();
      target[asciiLower(std::string(key))] = std::string(value.get_string());
    }
  }
  for (const auto& name : arrayAt(spec, {"remove"})) {
    if (name.is_string()) out.add_remove(asciiLower(std::string(name.get_string())));
  }
}

// Istio's Percent: `percentage: {value: 12.5}`, or the deprecated integer field; absent
// means every request.
double percentOf(const json::value& spec, const char* legacyField) {
  const auto& percentage = at(spec, {"percentage"});
  if (percentage.is_object()) return std::clamp(numberAt(percentage, {"value"}), 0.0, 100.0);
  return std::clamp(numberAt(spec, {legacyField}, 100.0), 0.0, 100.0);
}

}  // namespace

bool RouteCompiler::stringMatch(const Object& vs, const json::value& spec, const std::string& where, weft::v1::StringMatch& out,
                                bool allowEmpty) const {
  if (!at(spec, {"exact"}).is_null()) {
    out.set_exact(stringAt(spec, {"exact"}));
  } else if (!at(spec, {"prefix"}).is_null()) {
    out.set_prefix(stringAt(spec, {"prefix"}));
  } else if (!at(spec, {"regex"}).is_null()) {
    RE2 re(stringAt(spec, {"regex"}), RE2::Quiet);
    if (!re.ok()) {
      note_(vs, fmt::format("{}: regex {:?} does not compile ({}): the route is left out", where, stringAt(spec, {"regex"}), re.error()));
      return false;
    }
    out.set_regex(stringAt(spec, {"regex"}));
  } else if (!allowEmpty) {
    note_(vs, fmt::format("{}: a match without exact, prefix or regex is left out", where));
    return false;
  }
  return true;
}

std::vector<weft::v1::Route> RouteCompiler::compile(const Object& vs, const std::string& scope) const {
  std::vector<weft::v1::Route> out;
  size_t index = 0;
  for (const auto& http : arrayAt(vs.value(), {"spec", "http"})) {
    std::string where = fmt::format("http[{}]", index);
    std::string routeName = stringAt(http, {"name"});
    if (routeName.empty()) routeName = std::to_string(index);
    ++index;
    weft::v1::Route base;
    base.set_name(fmt::format("{}/{}/{}", vs.ns(), vs.name(), routeName));
    if (!compileAction(vs, http, where, base)) continue;
    headerOperations(at(http, {"headers", "request"}), *base.mutable_request_headers());
    headerOperations(at(http, {"headers", "response"}), *base.mutable_response_headers());
    const auto& matches = arrayAt(http, {"match"});
    if (matches.empty()) {
      out.push_back(std::move(base));
      continue;
    }
    for (size_t m = 0; m < matches.size(); ++m) {
      std::string matchWhere = fmt::format("{}.match[{}]", where, m);
      if (!matchGatewaysInclude(vs, matches[m], scope)) continue;  // another gateway's (or the mesh's) match
      // As Istio reads an http[] match: one that names its gateways applies wherever they
      // are, its source fields unread; they count only in a match without gateways.
      auto source = arrayAt(matches[m], {"gateways"}).empty() ? matchSource(matches[m]) : std::nullopt;
      if (source && scope == kMeshScope) {
        note_(vs, fmt::format("{}: sourceLabels and sourceNamespace are not compiled at waypoints: that match is left out", matchWhere));
        continue;
      }
      weft::v1::Route route = base;
      if (source) *route.mutable_match()->mutable_source() = std::move(*source);
      if (compileMatch(vs, matches[m], matchWhere, *route.mutable_match())) out.push_back(std::move(route));
    }
  }
  return out;
}

bool matchGatewaysInclude(const Object& vs, const json::value& match, const std::string& scope) {
  const auto& gateways = arrayAt(match, {"gateways"});
  if (gateways.empty()) return true;
  return std::any_of(gateways.begin(), gateways.end(), [&](const json::value& g) {
    if (!g.is_string()) return false;
    return model::resolveGatewayName(g.get_string(), vs.ns()) == scope;
  });
}

std::optional<weft::v1::RouteSource> matchSource(const json::value& match) {
  const auto& labels = at(match, {"sourceLabels"});
  std::string ns = stringAt(match, {"sourceNamespace"});
  bool anyLabel = labels.is_object() && !labels.get_object().empty();
  if (!anyLabel && ns.empty()) return std::nullopt;
  weft::v1::RouteSource source;
  if (anyLabel) {
    // Validation keeps label values strings; any other would be a value no pod has.
    for (const auto& [key, value] : labels.get_object()) {
      (*source.mutable_labels())[std::string(key)] = value.is_string() ? std::string(value.get_string()) : std::string("\x01not a label value");
    }
  }
  source.set_namespace_(ns);
  return source;
}

bool RouteCompiler::compileMatch(const Object& vs, const json::value& match, const std::string& where, weft::v1::RouteMatch& rm) const {
  struct Field {
    const char* name;
    weft::v1::StringMatch* (weft::v1::RouteMatch::*target)();
  };
  for (auto [name, target] : {Field{"uri", &weft::v1::RouteMatch::mutable_path}, Field{"method", &weft::v1::RouteMatch::mutable_method},
                              Field{"authority", &weft::v1::RouteMatch::mutable_authority},
                              Field{"scheme", &weft::v1::RouteMatch::mutable_scheme}}) {
    if (at(match, {name}).is_null()) continue;
    if (!stringMatch(vs, at(match, {name}), fmt::format("{}.{}", where, name), *(rm.*target)())) return false;
  }
  rm.set_ignore_uri_case(at(match, {"ignoreUriCase"}) == json::value(true));
  auto port = intAt(match, {"port"});
  if (port < 0 || port > 65535) {
    note_(vs, fmt::format("{}.port: {} is not a port: the route is left out", where, port));
    return false;
  }
  rm.set_port(static_cast<uint32_t>(port));
  for (const char* field : {"headers", "withoutHeaders"}) {
    const auto& headers = at(match, {field});
    if (!headers.is_object()) continue;
    for (const auto& [name, spec] : headers.get_object()) {
      weft::v1::HeaderMatch header;
      // "@request.auth.claims.<name>" matches a JWT claim (Istio's claim-based routing), and
      // claim names are case-sensitive; header names are not.
      std::string written(name);
      header.set_name(written.starts_with("@request.auth.claims") ? written : asciiLower(written));
      if (!stringMatch(vs, spec, fmt::format("{}.{}.{}", where, field, std::string(name)), *header.mutable_match(), true)) return false;
      *(std::string_view(field) == "headers" ? rm.add_headers() : rm.add_without_headers()) = std::move(header);
    }
  }
  const auto& query = at(match, {"queryParams"});
  if (query.is_object()) {
    for (const auto& [name, spec] : query.get_object()) {
      weft::v1::QueryParamMatch param;
      param.set_name(std::string(name));
      if (!stringMatch(vs, spec, fmt::format("{}.queryParams.{}", where, std::string(name)), *param.mutable_match(), true)) return false;
      *rm.add_query_params() = std::move(param);
    }
  }
  return true;
}

bool RouteCompiler::compileAction(const Object& vs, const json::value& http, const std::string& where, weft::v1::Route& route) const {
  const auto& redirect = at(http, {"redirect"});
  if (redirect.is_object()) {
    auto* r = route.mutable_redirect();
    r->set_uri(stringAt(redirect, {"uri"}));
    r->set_authority(stringAt(redirect, {"authority"}));
    r->set_scheme(stringAt(redirect, {"scheme"}));
    r->set_port(static_cast<uint32_t>(intAt(redirect, {"port"})));
    auto code = intAt(redirect, {"redirectCode"});
    r->set_code(code > 0 ? static_cast<uint32_t>(code) : 301);
    return compileCors(vs, http, where, route);
  }
  const auto& direct = at(http, {"directResponse"});
  if (direct.is_object()) {
    auto status = intAt(direct, {"status"});
    if (status < 200 || status > 599) {
      note_(vs, fmt::format("{}.directResponse.status: {} is not an HTTP status from 200 to 599: left out", where, status));
      return false;
    }
    route.mutable_direct_response()->set_status(static_cast<uint32_t>(status));
    route.mutable_direct_response()->set_body(stringAt(direct, {"body", "string"}));
    return compileCors(vs, http, where, route);
  }
  const auto& destinations = arrayAt(http, {"route"});
  if (destinations.empty()) {
    note_(vs, fmt::format("{}: no route, redirect or directResponse (delegate is not compiled yet): left out", where));
    return false;
  }
  auto* action = route.mutable_route();
  addDestinations(vs, destinations, *action->mutable_clusters());
  auto timeout = durationMsAt(http, {"timeout"});
  if (!timeout) {
    note_(vs, fmt::format("{}.timeout: {}: left out", where, timeout.error().message));
    return false;
  }
  action->set_timeout_ms(*timeout);
  const auto& retries = at(http, {"retries"});
  auto* retry = action->mutable_retries();
  if (retries.is_object()) {
    retry->set_attempts(static_cast<uint32_t>(std::max<int64_t>(0, intAt(retries, {"attempts"}))));
    auto perTry = durationMsAt(retries, {"perTryTimeout"});
    if (!perTry) {
      note_(vs, fmt::format("{}.retries.perTryTimeout: {}: left out", where, perTry.error().message));
      return false;
    }
    retry->set_per_try_timeout_ms(*perTry);
    std::string on = stringAt(retries, {"retryOn"});
    retry->set_retry_on(on.empty() ? kDefaultRetryOn : on);
  } else {
    retry->set_attempts(kDefaultRetryAttempts);
    retry->set_retry_on(kDefaultRetryOn);
  }
  const auto& rewrite = at(http, {"rewrite"});
  if (rewrite.is_object()) {
    action->mutable_rewrite()->set_uri_prefix(stringAt(rewrite, {"uri"}));
    action->mutable_rewrite()->set_authority(stringAt(rewrite, {"authority"}));
    // Validation checked the pattern compiles (RE2) and that it comes instead of uri; the
    // substitution's \N must name groups the pattern has, which only RE2 can tell.
    std::string pattern = stringAt(rewrite, {"uriRegexRewrite", "match"});
    std::string substitution = stringAt(rewrite, {"uriRegexRewrite", "rewrite"});
    if (!pattern.empty()) {
      RE2 re(pattern, RE2::Quiet);
      std::string why;
      if (!re.ok() || !re.CheckRewriteString(substitution, &why)) {
        note_(vs, fmt::format("{}.rewrite.uriRegexRewrite: {}: left out", where, re.ok() ? why : re.error()));
        return false;
      }
    }
    action->mutable_rewrite()->set_uri_regex(pattern);
    action->mutable_rewrite()->set_uri_regex_substitution(substitution);
  }
  compileMirrors(vs, http, route);
  return compileFault(vs, http, where, route) && compileCors(vs, http, where, route);
}

bool RouteCompiler::compileFault(const Object& vs, const json::value& http, const std::string& where, weft::v1::Route& route) const {
  const auto& fault = at(http, {"fault"});
  if (!fault.is_object()) return true;
  auto* out = route.mutable_fault();
  const auto& delay = at(fault, {"delay"});
  if (delay.is_object()) {
    auto fixed = durationMsAt(delay, {"fixedDelay"});
    if (!fixed || *fixed == 0) {
      note_(vs, fmt::format("{}.fault.delay.fixedDelay: {}: left out", where, fixed ? "a delay needs a duration above 0" : fixed.error().message));
      return false;
    }
    out->set_delay_ms(*fixed);
    out->set_delay_percent(percentOf(delay, "percent"));
  }
  const auto& abort = at(fault, {"abort"});
  if (abort.is_object()) {
    if (std::string grpc = stringAt(abort, {"grpcStatus"}); !grpc.empty()) {
      auto code = grpcStatusCode(grpc);
      if (!code) {
        note_(vs, fmt::format("{}.fault.abort.grpcStatus: {:?} is not a gRPC status name: left out", where, grpc));
        return false;
      }
      out->set_abort_grpc(true);
      out->set_abort_grpc_status(*code);
    } else {
      auto status = intAt(abort, {"httpStatus"});
      if (status < 200 || status > 599) {
        note_(vs, fmt::format("{}.fault.abort.httpStatus: {} is not an HTTP status from 200 to 599: left out", where, status));
        return false;
      }
      out->set_abort_status(static_cast<uint32_t>(status));
    }
    out->set_abort_percent(percentOf(abort, "percent"));
  }
  return true;
}

void RouteCompiler::compileMirrors(const Object& vs, const json::value& http, weft::v1::Route& route) const {
  auto add = [&](const json::value& destination, double percent) {
    std::string host = resolveHost(stringAt(destination, {"host"}), vs.ns());
    auto port = static_cast<uint32_t>(intAt(destination, {"port", "number"}));
    auto* mirror = route.add_mirrors();
    mirror->set_cluster(clusterFor_(vs, host, port, stringAt(destination, {"subset"})));
    mirror->set_percent(percent);
  };
  if (at(http, {"mirror"}).is_object()) {
    const auto& percentage = at(http, {"mirrorPercentage"});
    double percent = percentage.is_object() ? numberAt(percentage, {"value"}) : numberAt(http, {"mirrorPercent"}, 100.0);
    add(at(http, {"mirror"}), std::clamp(percent, 0.0, 100.0));
  }
  for (const auto& m : arrayAt(http, {"mirrors"})) add(at(m, {"destination"}), percentOf(m, "percent"));
}

bool RouteCompiler::compileCors(const Object& vs, const json::value& http, const std::string& where, weft::v1::Route& route) const {
  const auto& cors = at(http, {"corsPolicy"});
  if (!cors.is_object()) return true;
  auto* out = route.mutable_cors();
  size_t i = 0;
  for (const auto& origin : arrayAt(cors, {"allowOrigins"})) {
    if (!stringMatch(vs, origin, fmt::format("{}.corsPolicy.allowOrigins[{}]", where, i++), *out->add_allow_origins())) return false;
  }
  for (const auto& origin : arrayAt(cors, {"allowOrigin"})) {  // deprecated: exact strings
    if (origin.is_string()) out->add_allow_origins()->set_exact(std::string(origin.get_string()));
  }
  for (auto [field, target] : {std::pair{"allowMethods", out->mutable_allow_methods()}, std::pair{"allowHeaders", out->mutable_allow_headers()},
                               std::pair{"exposeHeaders", out->mutable_expose_headers()}}) {
    for (const auto& v : arrayAt(cors, {field})) {
      if (v.is_string()) target->Add(std::string(v.get_string()));
    }
  }
  auto maxAge = durationMsAt(cors, {"maxAge"});
  if (!maxAge) {
    note_(vs, fmt::format("{}.corsPolicy.maxAge: {}: left out", where, maxAge.error().message));
    return false;
  }
  out->set_max_age_s(*maxAge / 1000);
  out->set_allow_credentials(at(cors, {"allowCredentials"}) == json::value(true));
  return true;
}

void RouteCompiler::addDestinations(const model::Object& vs, const boost::json::array& destinations,
                                    google::protobuf::RepeatedPtrField<weft::v1::WeightedCluster>& into) const {
  for (const auto& d : destinations) {
    std::string host = resolveHost(stringAt(d, {"destination", "host"}), vs.ns());
    auto port = static_cast<uint32_t>(intAt(d, {"destination", "port", "number"}));
    auto* wc = into.Add();
    wc->set_cluster(clusterFor_(vs, host, port, stringAt(d, {"destination", "subset"})));
    auto weight = intAt(d, {"weight"});
    // A lone destination without a weight takes everything, as Istio reads it.
    wc->set_weight(weight > 0 ? static_cast<uint32_t>(weight) : (destinations.size() == 1 ? 100 : 0));
  }
}

}  // namespace weft::control
