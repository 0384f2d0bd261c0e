#pragma once
// gRPC as an HTTP proxy sees it: the status a request ended with, the gateway's own answers
// in gRPC's shape, and which statuses a retry policy acts on. Envoy is the model:
//  - a local reply to a gRPC request (content-type application/grpc*) is HTTP 200 with
//    content-type application/grpc, grpc-status mapped from the HTTP status
//    (Grpc::Utility::httpToGrpcStatus, after gRPC's doc/http-grpc-status-mapping.md:
//    400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED,
//    429/502/503/504 UNAVAILABLE, anything else UNKNOWN) and the body as a percent-encoded
//    grpc-message, all in one HEADERS frame ("trailers-only");
//  - retryOn cancelled, deadline-exceeded, internal, resource-exhausted and unavailable
//    look at grpc-status in the response headers only, as Envoy's router does: that is
//    where a trailers-only error answer carries it, and a status in real trailers arrives
//    after the body, which Envoy has already streamed to the client.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace weft::proxy {

namespace grpc_code {
inline constexpr unsigned kOk = 0, kCancelled = 1, kUnknown = 2, kDeadlineExceeded = 4, kPermissionDenied = 7, kResourceExhausted = 8,
                          kUnimplemented = 12, kInternal = 13, kUnavailable = 14, kUnauthenticated = 16;
}

unsigned grpcStatusForHttp(unsigned httpStatus);

// grpc-message's encoding (gRPC's PROTOCOL-HTTP2.md): bytes outside 0x20..0x7E and '%'
// become %XX.
std::string percentEncodeGrpcMessage(std::string_view message);

// Turns the gateway's own answer to a gRPC request into gRPC's trailers-only shape. A
// grpc-status already set (a fault with a gRPC status) is kept.
void toGrpcLocalReply(boost::beast::http::response<boost::beast::http::string_body>& response);

// The grpc-status value in `fields`, when it is a number.
std::optional<unsigned> grpcStatusIn(const boost::beast::http::fields& fields);

// Whether `retryOn` (a comma-separated Istio list) retries a response whose headers carry
// this grpc-status.
bool retriableGrpcStatus(std::string_view retryOn, const boost::beast::http::fields& responseHeaders);

}  // namespace weft::proxy
