#pragma once
// Trace context on requests the proxy forwards. Weft's proxies record no spans (there is no
// tracer to send them to yet), so they behave as a non-recording hop: a request that carries
// W3C `traceparent` (with its `tracestate`) or Zipkin B3 (`x-b3-*` or single `b3`) goes on
// with its context untouched — rewriting the parent id would point the next span at a span
// nobody reports. What the proxy adds:
//   - a request with no trace context starts a trace: a random 128-bit trace id and 64-bit
//     span id, written both as `traceparent` and as `x-b3-traceid`/`x-b3-spanid`/
//     `x-b3-sampled` (what Istio's Envoy adds), sampled "0" since nothing is recorded;
//   - a request with only one of the two formats gets the other with the same ids, so
//     applications instrumented either way join the same trace;
//   - a malformed `traceparent` is replaced by a fresh one and its `tracestate` dropped, as
//     the W3C recommendation asks of a participant that cannot parse it.

#include <boost/beast/http/fields.hpp>

#include <optional>
#include <span>
#include <utility>
#include <random>
#include <string>
#include <string_view>

namespace weft::proxy {

struct TraceIds {
  std::string traceId;  // 32 lowercase hex digits
  std::string spanId;   // 16 lowercase hex digits
  bool sampled = false;
};

// The ids of a valid `traceparent` (version 00 strictly; a later version's first four
// fields), or nothing.
std::optional<TraceIds> parseTraceparent(std::string_view value);
// The ids of B3 headers (multi-header form first, then single `b3`), a 64-bit trace id
// left-padded to 128 bits; nothing when absent or malformed.
std::optional<TraceIds> parseB3(const boost::beast::http::fields& fields);

std::string formatTraceparent(const TraceIds& ids);

// Random lowercase hex digits over all of `out` (ids for traces and requests).
void fillRandomHex(std::span<char> out, std::minstd_rand& random);
// A new x-request-id: a random (version 4) UUID, as Envoy makes them.
std::string newRequestId(std::minstd_rand& random);

// Makes `fields` carry trace context as described above.
void propagateTraceContext(boost::beast::http::fields& fields, std::minstd_rand& random);

}  // namespace weft::proxy
