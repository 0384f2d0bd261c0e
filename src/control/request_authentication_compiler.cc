#include "control/request_authentication_compiler.h"

#include <fmt/format.h>

#include "base/ascii.h"
#include "base/duration.h"
#include "control/policy_scope.h"
#include "model/json_access.h"

namespace weft::control {

using model::arrayAt;
using model::at;
using model::stringAt;

namespace {

// A rule without inline keys: where weftd fetches them, and the keys it has if any.
void resolveKeys(const model::Object& policy, const boost::json::value& rule, weft::v1::JwtRule& r, const JwksKeys& keys,
                 std::vector<std::string>& notes) {
  JwksSource source{r.jwks_uri(), r.issuer()};
  if (auto timeout = parseDuration(stringAt(rule, {"timeout"})); timeout && *timeout > std::chrono::nanoseconds::zero()) {
    source.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
    // A fetch holds one of weftd's few fetching threads: a policy author in one namespace
    // must not stall everyone's keys with `timeout: 24h` against a silent server.
    if (source.timeout > kMaxJwksTimeout) {
      notes.push_back(fmt::format("{}: issuer {:?}: timeout {} is more than weftd waits: {}", policy.friendlyName(), r.issuer(),
                                  stringAt(rule, {"timeout"}), formatDuration(kMaxJwksTimeout)));
      source.timeout = kMaxJwksTimeout;
    }
  }
  if (source.discovers() && source.issuer.empty()) {
    notes.push_back(fmt::format("{}: a jwtRule has no jwks, jwksUri or issuer: its tokens are answered 401", policy.friendlyName()));
    return;
  }
  std::string url = source.firstUrl();
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    notes.push_back(fmt::format("{}: issuer {:?}: {} is not an http(s) URL: its tokens are answered 401", policy.friendlyName(), r.issuer(), url));
    return;
  }
  // Where the keys come from, for the proxy's log when they have not come.
  r.set_jwks_uri(url);
  keys.wanted.push_back(source);
  auto found = keys.fetched.find(source.key());
  if (found != keys.fetched.end() && !found->second.jwks.empty()) {
    r.set_jwks(found->second.jwks);
    if (!found->second.error.empty()) {
      notes.push_back(fmt::format("{}: issuer {:?}: {}: the keys fetched before stay", policy.friendlyName(), r.issuer(), found->second.error));
    }
  } else if (found != keys.fetched.end() && !found->second.error.empty()) {
    notes.push_back(fmt::format("{}: issuer {:?}: {}: its tokens are answered 401 until a fetch works", policy.friendlyName(), r.issuer(),
                                found->second.error));
  } else {
    notes.push_back(fmt::format("{}: issuer {:?}: {} is not fetched yet: its tokens are answered 401 until it is", policy.friendlyName(),
                                r.issuer(), url));
  }
}

}  // namespace

std::optional<weft::v1::JwtAuthentication> compileRequestAuthentication(const model::Object& policy, const std::string& rootNamespace,
                                                                         const JwksKeys& keys, std::vector<std::string>& notes) {
  const auto& spec = at(policy.value(), {"spec"});
  weft::v1::JwtAuthentication out;
  out.set_name(policy.name());
  out.set_namespace_(policy.ns());
  setScope(policy, rootNamespace, out);
  std::vector<boost::json::value> refs;
  if (at(spec, {"targetRef"}).is_object()) refs.push_back(at(spec, {"targetRef"}));
  for (const auto& ref : arrayAt(spec, {"targetRefs"})) refs.push_back(ref);
  if (!refs.empty()) {
    // A Gateway API Gateway: its traffic at a waypoint, and an ingress Gateway's own
    // requests (its pods carry its name). A Service: its traffic at its waypoint. Targets
    // are in the policy's namespace.
    out.clear_selector();
    out.set_scope(weft::v1::Authorization::NAMESPACE);
    for (const auto& ref : refs) {
      std::string kind = stringAt(ref, {"kind"}), group = stringAt(ref, {"group"}), name = stringAt(ref, {"name"});
      if (kind == "Gateway" && group == "gateway.networking.k8s.io") {
        out.add_target_gateways(policy.ns() + "/" + name);
      } else if (kind == "Service" && group.empty()) {
        out.add_target_services(fmt::format("{}.{}.svc.cluster.local", name, policy.ns()));
      } else {
        notes.push_back(fmt::format("{}: targetRef {} {}/{} is not served (Service and Gateway are): that target is left out", policy.friendlyName(),
                                    kind, group, name));
      }
    }
    if (out.target_gateways().empty() && out.target_services().empty()) return std::nullopt;
  }
  for (const auto& rule : arrayAt(spec, {"jwtRules"})) {
    auto* r = out.add_rules();
    r->set_issuer(stringAt(rule, {"issuer"}));
    for (const auto& a : arrayAt(rule, {"audiences"})) {
      if (a.is_string()) r->add_audiences(std::string(a.get_string()));
    }
    r->set_jwks(stringAt(rule, {"jwks"}));
    std::string uri = stringAt(rule, {"jwksUri"});
    r->set_jwks_uri(uri.empty() ? stringAt(rule, {"jwks_uri"}) : uri);
    if (r->jwks().empty()) resolveKeys(policy, rule, *r, keys, notes);
    for (const auto& h : arrayAt(rule, {"fromHeaders"})) {
      auto* location = r->add_from_headers();
      location->set_name(asciiLower(stringAt(h, {"name"})));
      location->set_prefix(stringAt(h, {"prefix"}));
    }
    for (const auto& p : arrayAt(rule, {"fromParams"})) {
      if (p.is_string()) r->add_from_params(std::string(p.get_string()));
    }
    for (const auto& c : arrayAt(rule, {"fromCookies"})) {
      if (c.is_string()) r->add_from_cookies(std::string(c.get_string()));
    }
    for (const auto& claim : arrayAt(rule, {"spaceDelimitedClaims"})) {
      if (claim.is_string()) r->add_space_delimited_claims(std::string(claim.get_string()));
    }
    r->set_forward_original_token(at(rule, {"forwardOriginalToken"}) == boost::json::value(true));
    r->set_output_payload_to_header(stringAt(rule, {"outputPayloadToHeader"}));
    for (const auto& o : arrayAt(rule, {"outputClaimToHeaders"})) {
      auto* claim = r->add_output_claim_to_headers();
      claim->set_header(stringAt(o, {"header"}));
      claim->set_claim(stringAt(o, {"claim"}));
    }
  }
  return out;
}

}  // namespace weft::control
