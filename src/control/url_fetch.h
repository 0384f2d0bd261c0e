#pragma once
// One HTTP(S) GET for weftd's own needs (a RequestAuthentication's jwksUri and OpenID
// discovery documents), through libcurl: certificate and host name checked against the
// system's roots (or a given bundle), at most a few redirects and only to http(s), a
// deadline on the whole exchange and a cap on the body, so a slow or huge answer costs a
// bounded wait and memory. Anything but a 200 is an error naming the URL.

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "base/ipv4.h"
#include "base/result.h"

namespace weft::control {

struct FetchLimits {
  std::chrono::milliseconds timeout{5000};  // istiod's JWKS fetch timeout
  size_t maxBytes = 1 << 20;
  std::string caFile;  // empty: the system's trust store
  // Addresses never connected to, redirects included (istiod's BLOCKED_CIDRS_IN_JWKS_URIS):
  // keeps a policy author from making weftd probe its own network. IPv4 only.
  std::vector<Ipv4Cidr> blocked;
  // When set and true, a transfer under way stops (weftd shutting down).
  const std::atomic<bool>* cancel = nullptr;
};

Result<std::string> fetchUrl(const std::string& url, const FetchLimits& limits = {});

}  // namespace weft::control
