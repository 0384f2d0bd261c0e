#pragma once
// go-httpbin's endpoints as one function from a request to a response. No I/O happens
// here: /delay returns how long to wait and /stream returns its chunks, and the server
// (server.cc) does the waiting and the writing. So every endpoint is tested by calling
// handleRequest (httpbin_test.cc).
//
// Served: /, /get, /post, /put, /patch, /delete, /anything[/...], /headers, /ip,
// /user-agent, /hostname, /status/{codes}, /delay/{duration}, /bytes/{n}, /stream/{n},
// /response-headers. Routing follows go-httpbin's Go 1.22 ServeMux: a GET route also
// answers HEAD, a known path with the wrong method gets 405 and Allow, an unclean path a
// 301 to its clean form, anything else 404; OPTIONS is answered as a CORS preflight.

#include <chrono>
#include <cstddef>
#include <random>
#include <string>

#include "httpbin/http_message.h"

namespace weft::httpbin {

struct Settings {
  std::string hostname = "go-httpbin";             // what /hostname answers
  std::size_t maxBodyBytes = 1024 * 1024;          // go-httpbin's -max-body-size: /bytes limit too
  std::chrono::nanoseconds maxDuration = std::chrono::seconds(10);  // -max-duration: /delay limit
};

// `random` serves /bytes without a seed and weighted /status; each worker thread owns one.
Response handleRequest(const Request& request, const Settings& settings, std::mt19937_64& random);

}  // namespace weft::httpbin
