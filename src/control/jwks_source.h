#pragma once
// Where a RequestAuthentication rule's keys come from when they are not inline: its
// jwksUri, or, with neither jwks nor jwksUri, the `jwks_uri` of its issuer's OpenID
// discovery document (<issuer>/.well-known/openid-configuration), as istiod resolves
// them. weftd fetches them (control/jwks_resolver.h) and the registry inlines what it
// has, so proxies never fetch keys themselves.

#include <chrono>
#include <compare>
#include <map>
#include <string>

namespace weft::control {

struct JwksSource {
  std::string jwksUri;  // empty: discover it from the issuer
  std::string issuer;
  std::chrono::milliseconds timeout{5000};  // the rule's `timeout`

  bool discovers() const { return jwksUri.empty(); }
  // What the resolver and the registry key a source by.
  std::string key() const { return discovers() ? "discovery:" + issuer : jwksUri; }
  // The first URL fetched.
  std::string firstUrl() const {
    if (!discovers()) return jwksUri;
    std::string base = issuer;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/.well-known/openid-configuration";
  }
  auto operator<=>(const JwksSource&) const = default;
};

// What weftd has for one source: the last keys fetched (empty until one fetch worked) and
// the last failure (empty after a fetch that worked). Keys fetched once are kept through
// later failures, as istiod does, so an identity provider's outage does not lock everyone out.
struct FetchedJwks {
  std::string jwks;
  std::string error;
  bool operator==(const FetchedJwks&) const = default;
};

using FetchedJwksByKey = std::map<std::string, FetchedJwks>;

}  // namespace weft::control
