#include "proxy/cors.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::proxy {

namespace {

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

}  // namespace

bool corsOriginAllowed(const CompiledRoute& route, std::string_view origin) {
  if (!route.spec.has_cors() || origin.empty()) return false;
  return std::any_of(route.corsOrigins.begin(), route.corsOrigins.end(), [&](const CompiledMatch& m) {
    // `exact: "*"` is the wildcard origin, as in Envoy.
    return (m.kind == CompiledMatch::Kind::kExact && m.value == "*") || m.matches(origin);
  });
}

bool isCorsPreflight(std::string_view method, std::string_view origin, std::string_view requestMethod) {
  return method == "OPTIONS" && !origin.empty() && !requestMethod.empty();
}

void addPreflightHeaders(const weft::v1::CorsPolicy& policy, std::string_view origin, boost::beast::http::fields& response) {
  response.set("access-control-allow-origin", origin);
  if (!policy.allow_methods().empty()) response.set("access-control-allow-methods", joined(policy.allow_methods()));
  if (!policy.allow_headers().empty()) response.set("access-control-allow-headers", joined(policy.allow_headers()));
  if (policy.max_age_s() > 0) response.set("access-control-max-age", std::to_string(policy.max_age_s()));
  if (policy.allow_credentials()) response.set("access-control-allow-credentials", "true");
}

void addActualRequestHeaders(const weft::v1::CorsPolicy& policy, std::string_view origin, boost::beast::http::fields& response) {
  response.set("access-control-allow-origin", origin);
  if (policy.allow_credentials()) response.set("access-control-allow-credentials", "true");
  if (!policy.expose_headers().empty()) response.set("access-control-expose-headers", joined(policy.expose_headers()));
}

}  // namespace weft::proxy
