#pragma once
// One HTTP(S) GET for weftd's own needs (a RequestAuthentication's jwksUri and OpenID
// discovery documents), through libcurl: certificate and host name checked against the
// system's roots (or a given bundle), at most a few redirects and only to http(s), a
// deadline on the whole exchange and a cap on the body, so a slow or huge answer costs a
// bounded wait and memory. Anything but a 2xx is an error naming the URL.
//
// Where it may connect is checked on every connection curl opens (after name resolution,
// and for each redirect): never to link-local addresses (169.254.0.0/16, fe80::/10, the
// usual home of cloud metadata services) or the known metadata addresses outside them
// (100.100.100.200, fd00:ec2::/32), as istiod refuses them, nor to the ranges given.

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "control/ip_range.h"

namespace weft::control {

struct FetchLimits {
  std::chrono::milliseconds timeout{5000};  // istiod's JWKS fetch timeout
  size_t maxBytes = 1 << 20;
  std::string caFile;  // empty: the system's trust store
  // Ranges never connected to, besides the always-blocked ones (istiod's
  // BLOCKED_CIDRS_IN_JWKS_URIS): keeps a policy author from making weftd probe its network.
  std::vector<IpRange> blocked;
  // When set and true, a transfer under way stops (weftd shutting down).
  const std::atomic<bool>* cancel = nullptr;
};

Result<std::string> fetchUrl(const std::string& url, const FetchLimits& limits = {});

}  // namespace weft::control
