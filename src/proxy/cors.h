#pragma once
// A route's corsPolicy, as Envoy's CORS filter applies it: a preflight (OPTIONS with
// Origin and Access-Control-Request-Method) from an allowed origin is answered by the
// proxy itself; an actual request from an allowed origin gets Access-Control-Allow-Origin
// (and -Credentials, -Expose-Headers) added to its response. A request from an origin the
// policy does not allow is passed on untouched (unmatchedPreflights: FORWARD, Istio's
// default), so the browser refuses it.

#include <boost/beast/http/fields.hpp>

#include <string_view>
#include <vector>

#include "proxy/proxy_config.h"

namespace weft::proxy {

bool corsOriginAllowed(const CompiledRoute& route, std::string_view origin);

bool isCorsPreflight(std::string_view method, std::string_view origin, std::string_view requestMethod);

// Headers of the proxy's own 200 answer to an allowed preflight.
void addPreflightHeaders(const weft::v1::CorsPolicy& policy, std::string_view origin, boost::beast::http::fields& response);

// Headers added to the upstream's response for an actual request from an allowed origin.
void addActualRequestHeaders(const weft::v1::CorsPolicy& policy, std::string_view origin, boost::beast::http::fields& response);

}  // namespace weft::proxy
