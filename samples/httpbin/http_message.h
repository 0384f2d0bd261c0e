#pragma once
// The request and the response as the endpoints see them: plain values with no socket, so
// every endpoint is a function a test can call (endpoints.h). server.cc converts Beast's
// messages to and from these.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace weft::httpbin {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;           // as sent: "GET", "POST", "PURGE"
  std::string target;           // request-target as sent: "/get?a=1", or "http://host/get"
  unsigned version = 11;        // HTTP/1.0 is 10, HTTP/1.1 is 11
  std::vector<Header> headers;  // in arrival order, names as sent
  std::string body;             // the whole body; the server bounds its size before this
  std::string remoteIp;         // the peer's address without the port: "10.0.0.7", "::1"
};

struct Response {
  int status = 200;
  std::vector<Header> headers;  // Content-Length, Date and Connection are the server's
  std::string body;
  // /stream: sent with chunked transfer encoding, one chunk per entry, instead of `body`.
  std::vector<std::string> chunks;
  // /delay: the server waits this long on a timer before answering; no handler sleeps.
  std::chrono::nanoseconds delay{0};
  // Rejections of the request itself (no Host, unparsable target) end the connection, as
  // Go's server does for them.
  bool close = false;

  // The first value of a header, compared case-insensitively; nullptr when absent.
  const std::string* header(std::string_view name) const;
};

// Go's Header.Get: the first value of a request header, any case; empty when absent.
std::string_view headerValue(const Request& request, std::string_view name);

bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace weft::httpbin
