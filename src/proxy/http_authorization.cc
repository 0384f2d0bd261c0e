#include "proxy/http_authorization.h"

#include <algorithm>

#include "base/ascii.h"
#include "base/ipv4.h"
#include "xds/policy_match.h"

namespace weft::proxy {

namespace {

using google::protobuf::RepeatedField;
using google::protobuf::RepeatedPtrField;
using weft::v1::Match;
using xds::anyMatches;

bool addressIn(const RepeatedPtrField<std::string>& blocks, std::string_view address) {
  auto parsed = Ipv4Address::parse(address);
  return parsed && xds::addressIn(blocks, *parsed);
}

bool portIn(const RepeatedField<uint32_t>& ports, uint32_t port) { return std::find(ports.begin(), ports.end(), port) != ports.end(); }

// A positive list must have a match (when it is set); a negative list must have none.
template <class Test>
bool allowedBy(bool positiveSet, bool negativeSet, Test inPositive, Test inNegative) {
  if (positiveSet && !inPositive()) return false;
  if (negativeSet && inNegative()) return false;
  return true;
}

std::string requestPrincipal(const AuthorizationFacts& f) { return f.jwt == nullptr ? std::string() : f.jwt->issuer + "/" + f.jwt->subject; }

}  // namespace

std::optional<std::vector<std::string>> jwtClaimStrings(const VerifiedJwt& jwt, std::string_view path) {
  const boost::json::value* at = nullptr;
  const boost::json::object* object = &jwt.claims;
  bool topLevel = true, delimited = false;
  while (!path.empty()) {
    if (path.front() != '[') return std::nullopt;
    auto close = path.find(']');
    if (close == std::string_view::npos || object == nullptr) return std::nullopt;
    std::string_view name = path.substr(1, close - 1);
    at = object->if_contains(name);
    if (at == nullptr) return std::nullopt;
    delimited = topLevel && std::find(jwt.spaceDelimitedClaims.begin(), jwt.spaceDelimitedClaims.end(), name) != jwt.spaceDelimitedClaims.end();
    topLevel = false;
    object = at->is_object() ? &at->get_object() : nullptr;
    path.remove_prefix(close + 1);
  }
  if (at == nullptr) return std::nullopt;
  std::vector<std::string> out;
  if (at->is_string() && !delimited) out.emplace_back(at->get_string());
  if (at->is_string() && delimited) {
    std::string_view words = at->get_string();
    while (!words.empty()) {
      auto space = words.find(' ');
      if (space != 0) out.emplace_back(words.substr(0, space));
      words = space == std::string_view::npos ? std::string_view() : words.substr(space + 1);
    }
  }
  if (at->is_array()) {
    for (const auto& v : at->get_array()) {
      if (v.is_string()) out.emplace_back(v.get_string());
    }
  }
  return out;
}

namespace {

bool sourceMatches(const weft::v1::HttpSource& s, const xds::SourceFacts& peer, const AuthorizationFacts& f) {
  // No verified JWT: no request principal, which a positive list never takes (not even "*").
  if (!s.request_principals().empty() && (f.jwt == nullptr || !anyMatches(s.request_principals(), requestPrincipal(f)))) return false;
  if (!s.not_request_principals().empty() && anyMatches(s.not_request_principals(), requestPrincipal(f))) return false;
  if (!s.principals().empty() && !anyMatches(s.principals(), peer.principal)) return false;
  if (!s.not_principals().empty() && anyMatches(s.not_principals(), peer.principal)) return false;
  if (!s.namespaces().empty() && !anyMatches(s.namespaces(), peer.ns)) return false;
  if (!s.not_namespaces().empty() && anyMatches(s.not_namespaces(), peer.ns)) return false;
  if (!s.ip_blocks().empty() && !addressIn(s.ip_blocks(), f.sourceAddress)) return false;
  if (!s.not_ip_blocks().empty() && addressIn(s.not_ip_blocks(), f.sourceAddress)) return false;
  if (!s.remote_ip_blocks().empty() && !addressIn(s.remote_ip_blocks(), f.sourceAddress)) return false;
  if (!s.not_remote_ip_blocks().empty() && addressIn(s.not_remote_ip_blocks(), f.sourceAddress)) return false;
  return true;
}

// Hosts compare case-insensitively, with or without the port (Istio generates both forms).
bool hostIn(const RepeatedPtrField<Match>& hosts, std::string_view host) {
  std::string withPort = asciiLower(host);
  std::string bare = withPort.substr(0, withPort.rfind(':') == std::string::npos || withPort.starts_with("[") ? std::string::npos
                                                                                                              : withPort.rfind(':'));
  for (const auto& m : hosts) {
    Match lowered = m;
    lowered.set_value(asciiLower(m.value()));
    if (xds::stringMatches(lowered, withPort) || xds::stringMatches(lowered, bare)) return true;
  }
  return false;
}

bool operationMatches(const weft::v1::HttpOperation& o, const AuthorizationFacts& f) {
  std::string method(f.method), path(f.path);
  if (!o.hosts().empty() && !hostIn(o.hosts(), f.host)) return false;
  if (!o.not_hosts().empty() && hostIn(o.not_hosts(), f.host)) return false;
  if (!o.ports().empty() && !portIn(o.ports(), f.port)) return false;
  if (!o.not_ports().empty() && portIn(o.not_ports(), f.port)) return false;
  if (!o.methods().empty() && !anyMatches(o.methods(), method)) return false;
  if (!o.not_methods().empty() && anyMatches(o.not_methods(), method)) return false;
  if (!o.paths().empty() && !anyMatches(o.paths(), path)) return false;
  if (!o.not_paths().empty() && anyMatches(o.not_paths(), path)) return false;
  return true;
}

bool conditionMatches(const weft::v1::HttpCondition& c, const xds::SourceFacts& peer, const AuthorizationFacts& f) {
  const std::string& key = c.key();
  auto check = [&](const std::string& value) {
    if (!c.values().empty() && !anyMatches(c.values(), value)) return false;
    if (!c.not_values().empty() && anyMatches(c.not_values(), value)) return false;
    return true;
  };
  auto checkAddress = [&](std::string_view address) {
    if (!c.values().empty()) {
      RepeatedPtrField<std::string> blocks;
      for (const auto& v : c.values()) *blocks.Add() = v.value();
      if (!addressIn(blocks, address)) return false;
    }
    if (!c.not_values().empty()) {
      RepeatedPtrField<std::string> blocks;
      for (const auto& v : c.not_values()) *blocks.Add() = v.value();
      if (addressIn(blocks, address)) return false;
    }
    return true;
  };
  constexpr std::string_view kHeaders = "request.headers[";
  if (key.starts_with(kHeaders) && key.ends_with("]")) {
    std::string name = asciiLower(std::string_view(key).substr(kHeaders.size(), key.size() - kHeaders.size() - 1));
    auto value = f.header ? f.header(name) : std::nullopt;
    if (!value) return c.values().empty();  // absent: only a notValues-only condition holds
    return check(std::string(*value));
  }
  if (key == "source.ip" || key == "remote.ip") return checkAddress(f.sourceAddress);
  if (key == "source.namespace") return check(peer.ns);
  if (key == "source.principal") return check(peer.principal);
  if (key == "destination.ip") return checkAddress(f.destinationAddress);
  if (key == "destination.port") return check(std::to_string(f.port));
  if (key == "connection.sni") return check(std::string(f.sni));
  // A list value (audiences, a list claim) matches when one of its strings does; a notValues
  // condition holds when none does.
  auto checkAny = [&](const std::vector<std::string>& values) {
    auto any = [&](const auto& matches) {
      return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return anyMatches(matches, v); });
    };
    if (!c.values().empty() && !any(c.values())) return false;
    if (!c.not_values().empty() && any(c.not_values())) return false;
    return true;
  };
  if (key.starts_with("request.auth.")) {
    if (f.jwt == nullptr) return c.values().empty() && !c.not_values().empty();  // nothing authenticated: only a notValues-only one holds
    if (key == "request.auth.principal") return check(requestPrincipal(f));
    if (key == "request.auth.audiences") return checkAny(f.jwt->audiences);
    if (key == "request.auth.presenter") return check(f.jwt->presenter);
    constexpr std::string_view kClaims = "request.auth.claims";
    if (key.starts_with(kClaims)) {
      auto strings = jwtClaimStrings(*f.jwt, std::string_view(key).substr(kClaims.size()));
      if (!strings) return c.values().empty() && !c.not_values().empty();
      return checkAny(*strings);
    }
  }
  return false;  // experimental keys: never match
}

bool ruleMatches(const weft::v1::HttpRule& rule, const xds::SourceFacts& peer, const AuthorizationFacts& f) {
  bool fromOk = rule.from().empty() || std::any_of(rule.from().begin(), rule.from().end(), [&](const auto& s) { return sourceMatches(s, peer, f); });
  bool toOk = rule.to().empty() || std::any_of(rule.to().begin(), rule.to().end(), [&](const auto& o) { return operationMatches(o, f); });
  bool whenOk = std::all_of(rule.when().begin(), rule.when().end(), [&](const auto& c) { return conditionMatches(c, peer, f); });
  return fromOk && toOk && whenOk;
}

// The `when` keys a connection has (Istio's TCP-compatible conditions).
bool isConnectionKey(const std::string& key) {
  return key == "source.ip" || key == "remote.ip" || key == "source.namespace" || key == "source.principal" || key == "destination.ip" ||
         key == "destination.port" || key == "connection.sni";
}

bool hasHttpOnlyFields(const weft::v1::HttpRule& rule) {
  for (const auto& s : rule.from()) {
    if (!s.request_principals().empty() || !s.not_request_principals().empty()) return true;
  }
  for (const auto& o : rule.to()) {
    if (!o.hosts().empty() || !o.not_hosts().empty() || !o.methods().empty() || !o.not_methods().empty() || !o.paths().empty() ||
        !o.not_paths().empty()) {
      return true;
    }
  }
  return std::any_of(rule.when().begin(), rule.when().end(), [](const auto& c) { return !isConnectionKey(c.key()); });
}

// A DENY or AUDIT rule for a connection: its HTTP-only fields left out.
weft::v1::HttpRule withoutHttpOnlyFields(const weft::v1::HttpRule& rule) {
  weft::v1::HttpRule out = rule;
  for (auto& s : *out.mutable_from()) {
    s.clear_request_principals();
    s.clear_not_request_principals();
  }
  for (auto& o : *out.mutable_to()) {
    o.clear_hosts();
    o.clear_not_hosts();
    o.clear_methods();
    o.clear_not_methods();
    o.clear_paths();
    o.clear_not_paths();
  }
  out.clear_when();
  for (const auto& c : rule.when()) {
    if (isConnectionKey(c.key())) *out.add_when() = c;
  }
  return out;
}

bool connectionRuleMatches(const weft::v1::HttpRule& rule, bool dropFields, const xds::SourceFacts& peer, const AuthorizationFacts& f) {
  if (!hasHttpOnlyFields(rule)) return ruleMatches(rule, peer, f);
  return dropFields && ruleMatches(withoutHttpOnlyFields(rule), peer, f);
}

}  // namespace

bool httpPolicyMatches(const weft::v1::HttpAuthorization& policy, const AuthorizationFacts& facts) {
  xds::SourceFacts peer = facts.peerIdentity.empty() ? xds::SourceFacts{} : xds::sourceFacts(std::string(facts.peerIdentity));
  if (facts.connectionOnly) {
    // Only ALLOW drops such a rule; DENY and AUDIT drop the fields and match more.
    bool dropFields = policy.action() != weft::v1::Authorization::ALLOW;
    return std::any_of(policy.rules().begin(), policy.rules().end(),
                       [&](const auto& r) { return connectionRuleMatches(r, dropFields, peer, facts); });
  }
  return std::any_of(policy.rules().begin(), policy.rules().end(), [&](const auto& r) { return ruleMatches(r, peer, facts); });
}

HttpAuthorizer HttpAuthorizer::forWorkload(const std::vector<weft::v1::HttpAuthorization>& all, const std::string& ns,
                                           const std::map<std::string, std::string>& labels, const std::string& rootNamespace) {
  HttpAuthorizer out;
  for (const auto& p : all) {
    if (!p.target_gateways().empty() || !p.target_services().empty()) continue;
    if (!xds::policyApplies(p.scope(), p.namespace_(), p.selector(), ns, labels, rootNamespace)) continue;
    out.add(p);
  }
  return out;
}

HttpAuthorizer HttpAuthorizer::forWaypointTarget(const std::vector<weft::v1::HttpAuthorization>& all, const std::string& gateway,
                                                 const std::string& serviceHost) {
  HttpAuthorizer out;
  for (const auto& p : all) {
    bool toGateway = std::find(p.target_gateways().begin(), p.target_gateways().end(), gateway) != p.target_gateways().end();
    bool toService = std::find(p.target_services().begin(), p.target_services().end(), serviceHost) != p.target_services().end();
    if (toGateway || toService) out.add(p);
  }
  return out;
}

void HttpAuthorizer::add(const weft::v1::HttpAuthorization& policy) {
  switch (policy.action()) {
    case weft::v1::Authorization::DENY:
      deny_.push_back(policy);
      break;
    case weft::v1::Authorization::AUDIT:
      audit_.push_back(policy);
      break;
    default:
      allow_.push_back(policy);
  }
}

AuthorizationDecision HttpAuthorizer::decide(const AuthorizationFacts& facts) const {
  AuthorizationDecision decision;
  for (const auto& p : audit_) {
    if (httpPolicyMatches(p, facts)) decision.audited.push_back(p.namespace_() + "/" + p.name());
  }
  for (const auto& p : deny_) {
    if (httpPolicyMatches(p, facts)) {
      decision.allowed = false;
      decision.policy = p.namespace_() + "/" + p.name();
      return decision;
    }
  }
  if (allow_.empty()) return decision;
  for (const auto& p : allow_) {
    if (httpPolicyMatches(p, facts)) {
      decision.policy = p.namespace_() + "/" + p.name();
      return decision;
    }
  }
  decision.allowed = false;
  return decision;
}

}  // namespace weft::proxy
