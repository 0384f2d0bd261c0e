#pragma once
// What go-httpbin reads back to the client: canonical headers, query args, the client's
// address, the URL the request was sent to, and the body decoded by its Content-Type. The
// JSON builders here produce go-httpbin's response structs field for field, in Go's order.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "base/result.h"
#include "httpbin/http_message.h"
#include "httpbin/request_target.h"
#include "httpbin/url_values.h"

namespace weft::httpbin {

// The request as go-httpbin's handlers see it, worked out once per request.
struct Incoming {
  const Request& request;
  RequestTarget target;
  std::string host;    // r.Host: an absolute-form target's authority, else the Host header
  Values headers;      // getRequestHeaders: canonical names, one Host value
  Values args;         // r.URL.Query()
  std::string origin;  // getClientIP
  std::string url;     // getURL(r).String()
};

Incoming readIncoming(const Request& request, RequestTarget target);

// textproto.CanonicalMIMEHeaderKey: "x-forwarded-for" -> "X-Forwarded-For"; names holding
// a byte that is not a token character are returned unchanged, as Go does.
std::string canonicalHeaderKey(std::string_view name);

// getClientIP: Fly-Client-IP, CF-Connecting-IP, Fastly-Client-IP, True-Client-IP, then the
// first X-Forwarded-For entry, then the peer address. Spoofable by design, like go-httpbin.
std::string clientIp(const Request& request);

// noBodyResponse: args, headers, method, origin, url (/get, HEAD of /anything).
boost::json::object noBodyEcho(const Incoming& in);

// bodyResponse: noBodyResponse's fields, then data, files, form and json from the body.
// Fails as go-httpbin's parseBody does (bad JSON, bad form encoding, bad multipart).
Result<boost::json::object> bodyEcho(const Incoming& in);

// streamResponse: id, args, headers, origin, url (one line of /stream).
boost::json::object streamEcho(const Incoming& in, int id);

}  // namespace weft::httpbin
