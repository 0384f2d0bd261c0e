#include "proxy/request_authentication.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/serialize.hpp>

#include "base/ascii.h"
#include "xds/policy_match.h"

namespace weft::proxy {
namespace http = boost::beast::http;

namespace {

// Where one token was found.
struct Found {
  std::string token;
  std::string header;  // the header it came in, or "" (a query parameter or a cookie)
};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<Found> fromHeader(const http::fields& headers, const std::string& name, const std::string& prefix) {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  std::string_view value = it->value();
  if (!prefix.empty()) {
    if (value.size() < prefix.size() || asciiLower(value.substr(0, prefix.size())) != asciiLower(prefix)) return std::nullopt;
    value.remove_prefix(prefix.size());
  }
  value = trimmed(value);
  if (value.empty()) return std::nullopt;
  return Found{std::string(value), name};
}

std::optional<Found> fromParam(std::string_view target, const std::string& name) {
  auto query = target.find('?');
  if (query == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(query + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name && eq + 1 < pair.size()) return Found{std::string(pair.substr(eq + 1)), ""};
  }
  return std::nullopt;
}

std::optional<Found> fromCookie(const http::fields& headers, const std::string& name) {
  auto [begin, end] = headers.equal_range(http::field::cookie);
  for (auto it = begin; it != end; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      auto semi = rest.find(';');
      std::string_view pair = trimmed(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name && eq + 1 < pair.size()) return Found{std::string(pair.substr(eq + 1)), ""};
    }
  }
  return std::nullopt;
}

// Every token in `rule`'s locations (Istio's defaults when it names none).
std::vector<Found> tokensFor(const weft::v1::JwtRule& rule, const http::fields& headers, std::string_view target) {
  std::vector<Found> out;
  auto add = [&](std::optional<Found> f) {
    if (f) out.push_back(std::move(*f));
  };
  if (rule.from_headers().empty() && rule.from_params().empty() && rule.from_cookies().empty()) {
    add(fromHeader(headers, "authorization", "Bearer "));
    add(fromParam(target, "access_token"));
    return out;
  }
  for (const auto& h : rule.from_headers()) add(fromHeader(headers, h.name(), h.prefix()));
  for (const auto& p : rule.from_params()) add(fromParam(target, p));
  for (const auto& c : rule.from_cookies()) add(fromCookie(headers, c));
  return out;
}

bool audienceAllowed(const weft::v1::JwtRule& rule, const VerifiedJwt& jwt) {
  if (rule.audiences().empty()) return true;
  for (const auto& allowed : rule.audiences()) {
    for (const auto& aud : jwt.audiences) {
      if (aud == allowed) return true;
    }
  }
  return false;
}

}  // namespace

Result<VerifiedJwt> JwtAuthenticator::checkWithRule(const Rule& rule, ParsedJwt parsed, const std::string& issuer,
                                                    std::chrono::system_clock::time_point now) {
  if (!rule.keys) {
    spdlog::info("gateway: JWT of issuer {:?} refused: {}", issuer, rule.keysProblem);
    // What Envoy answers when istiod sent no usable keys: a token naming a kid finds no key
    // for it; one without is checked against none.
    return Error{parsed.kid.empty() ? "Jwt verification fails" : "Jwks doesn't have key to match kid or alg from Jwt"};
  }
  auto jwt = verifyJwt(std::move(parsed), *rule.keys, now);
  if (!jwt) return jwt.error();
  if (!audienceAllowed(rule.spec, *jwt)) return Error{"Audiences in Jwt are not allowed"};
  jwt->spaceDelimitedClaims = {"scope", "permission"};
  for (const auto& claim : rule.spec.space_delimited_claims()) jwt->spaceDelimitedClaims.push_back(claim);
  return jwt;
}

namespace {

// A claim as a header value: strings as they are, numbers and booleans written out;
// objects, lists, null and strings with control characters (which would end the header)
// are not copied.
std::optional<std::string> claimText(const boost::json::value& v) {
  if (v.is_int64() || v.is_uint64() || v.is_double() || v.is_bool()) return boost::json::serialize(v);
  if (!v.is_string()) return std::nullopt;
  std::string_view text = v.get_string();
  if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) return std::nullopt;
  return std::string(text);
}

}  // namespace

JwtAuthenticator JwtAuthenticator::forWorkload(const std::vector<weft::v1::JwtAuthentication>& all, const std::string& ns,
                                               const std::map<std::string, std::string>& labels, const std::string& rootNamespace,
                                               std::vector<std::string>& problems) {
  JwtAuthenticator out;
  auto gatewayName = labels.find(kGatewayNameLabel);
  const std::string ownGateway = gatewayName == labels.end() ? "" : ns + "/" + gatewayName->second;
  for (const auto& policy : all) {
    bool attached = !policy.target_gateways().empty() || !policy.target_services().empty();
    if (attached) {
      // Attached by targetRefs: a pod of one of its Gateways (a Gateway API Gateway's pods
      // carry its name) checks its own requests with it; Service targets are waypoints'.
      const auto& gateways = policy.target_gateways();
      if (!ownGateway.empty() && std::find(gateways.begin(), gateways.end(), ownGateway) != gateways.end()) out.add(policy, problems);
      continue;
    }
    if (!xds::policyApplies(policy.scope(), policy.namespace_(), policy.selector(), ns, labels, rootNamespace)) continue;
    out.add(policy, problems);
  }
  return out;
}

JwtAuthenticator JwtAuthenticator::forWaypointTarget(const std::vector<weft::v1::JwtAuthentication>& all, const std::string& gateway,
                                                     const std::string& serviceHost, std::vector<std::string>& problems) {
  JwtAuthenticator out;
  for (const auto& policy : all) {
    bool toGateway = std::find(policy.target_gateways().begin(), policy.target_gateways().end(), gateway) != policy.target_gateways().end();
    bool toService = std::find(policy.target_services().begin(), policy.target_services().end(), serviceHost) != policy.target_services().end();
    if (toGateway || toService) out.add(policy, problems);
  }
  return out;
}

void JwtAuthenticator::add(const weft::v1::JwtAuthentication& policy, std::vector<std::string>& problems) {
  for (const auto& spec : policy.rules()) {
    Rule rule{spec, std::nullopt, ""};
    if (!spec.jwks().empty()) {
      auto keys = JwtKeys::parse(spec.jwks());
      if (keys) {
        rule.keys = std::move(*keys);
      } else {
        rule.keysProblem = keys.error().message;
        problems.push_back(fmt::format("RequestAuthentication {}/{} issuer {:?}: {}: its tokens are refused", policy.namespace_(), policy.name(),
                                       spec.issuer(), rule.keysProblem));
      }
    } else {
      // weftd fetches jwksUri and discovery keys and sends them inline; none yet (or none
      // to fetch) leaves the rule without keys.
      rule.keysProblem = spec.jwks_uri().empty() ? "the rule has no keys" : fmt::format("weftd has no keys from {} yet", spec.jwks_uri());
    }
    rules_.push_back(std::move(rule));
  }
}

JwtCheck JwtAuthenticator::check(http::fields& headers, std::string_view target, std::chrono::system_clock::time_point now) const {
  // The headers a verified token writes are the proxy's alone: a client's own go first.
  for (const auto& rule : rules_) {
    if (!rule.spec.output_payload_to_header().empty()) headers.erase(rule.spec.output_payload_to_header());
    for (const auto& c : rule.spec.output_claim_to_headers()) headers.erase(c.header());
  }
  // Every token in any rule's locations must verify (Envoy checks them all: one good token
  // must not carry a forged one past the proxy), each with a rule that reads its location
  // and names its issuer.
  struct Token {
    Found found;
    std::vector<const Rule*> readers;  // the rules whose locations hold it
  };
  std::vector<Token> tokens;
  for (const auto& rule : rules_) {
    for (auto& f : tokensFor(rule.spec, headers, target)) {
      auto same = std::find_if(tokens.begin(), tokens.end(), [&](const Token& t) { return t.found.token == f.token && t.found.header == f.header; });
      if (same == tokens.end()) same = tokens.insert(tokens.end(), Token{std::move(f), {}});
      same->readers.push_back(&rule);
    }
  }
  JwtCheck out;
  if (tokens.empty()) return out;  // no token: no principal, and nothing to refuse
  out.state = JwtCheck::State::kRefused;
  struct Verified {
    const Token* token;
    const Rule* rule;
    VerifiedJwt jwt;
  };
  std::vector<Verified> verified;
  for (const auto& token : tokens) {
    // A token that cannot be read says so first, as Envoy parses before it looks for the
    // issuer's provider; its issuer, believed in nothing else, only chooses the rule.
    auto parsed = parseJwt(token.found.token);
    if (!parsed) {
      out.failure = parsed.error().message;
      return out;
    }
    // The rules that may check it: those naming its issuer, then those naming none (a
    // rule with only a jwksUri takes any issuer); as Envoy tries each provider of the
    // location, the first that verifies it wins, and the first failure is the answer.
    std::string issuer = parsed->issuer();
    std::vector<const Rule*> candidates;
    for (const Rule* r : token.readers) {
      if (r->spec.issuer() == issuer) candidates.push_back(r);
    }
    for (const Rule* r : token.readers) {
      if (r->spec.issuer().empty() && !issuer.empty()) candidates.push_back(r);
    }
    if (candidates.empty()) {
      out.failure = "Jwt issuer is not configured";
      return out;
    }
    std::optional<Verified> accepted;
    for (size_t i = 0; i < candidates.size() && !accepted; ++i) {
      // The last candidate takes the parse itself; earlier ones a copy, kept only when a
      // second rule may be tried.
      auto jwt = checkWithRule(*candidates[i], i + 1 == candidates.size() ? std::move(*parsed) : ParsedJwt(*parsed), issuer, now);
      if (jwt) {
        accepted.emplace(Verified{&token, candidates[i], std::move(*jwt)});
      } else if (out.failure.empty()) {
        out.failure = jwt.error().message;
      }
    }
    if (!accepted) return out;
    out.failure.clear();
    verified.push_back(std::move(*accepted));
  }
  // All verified: the headers each rule asks for, and the first token names the principal.
  for (const auto& v : verified) {
    if (!v.rule->spec.forward_original_token() && !v.token->found.header.empty()) headers.erase(v.token->found.header);
    if (!v.rule->spec.output_payload_to_header().empty()) headers.set(v.rule->spec.output_payload_to_header(), v.jwt.payloadBase64Url);
    for (const auto& c : v.rule->spec.output_claim_to_headers()) {
      const auto* claim = v.jwt.claims.if_contains(c.claim());
      if (claim == nullptr) continue;
      if (auto text = claimText(*claim)) headers.set(c.header(), *text);
    }
  }
  out.state = JwtCheck::State::kVerified;
  out.jwt = std::move(verified.front().jwt);
  return out;
}

}  // namespace weft::proxy
