#pragma once
// The key a CONSISTENT_HASH cluster hashes a request by: a header, a cookie, the client's
// address or a query parameter. For a cookie with a ttl that the request does not carry,
// the proxy mints one and asks the client to keep it (Set-Cookie), as Envoy does, so the
// client's next requests go to the same endpoint.

#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "proxy/proxy_config.h"

namespace weft::proxy {

struct HashKey {
  std::optional<std::string> key;  // nullopt: the request has no key
  std::string setCookie;           // non-empty: a Set-Cookie value for the response
};

HashKey hashKeyFor(const weft::v1::LoadBalancer& lb, const RequestView& request, std::string_view clientAddress, std::minstd_rand& random);

// The value of cookie `name` in a Cookie header ("a=1; b=2"); nullopt when absent.
std::optional<std::string_view> cookieValue(std::string_view cookieHeader, std::string_view name);

}  // namespace weft::proxy
