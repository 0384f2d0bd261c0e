#include "proxy/grpc_status.h"

#include <fmt/format.h>

#include <charconv>

#include "proxy/retry_on.h"

namespace weft::proxy {

namespace http = boost::beast::http;

unsigned grpcStatusForHttp(unsigned httpStatus) {
  switch (httpStatus) {
    case 400: return grpc_code::kInternal;
    case 401: return grpc_code::kUnauthenticated;
    case 403: return grpc_code::kPermissionDenied;
    case 404: return grpc_code::kUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504: return grpc_code::kUnavailable;
    default: return grpc_code::kUnknown;
  }
}

std::string percentEncodeGrpcMessage(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (unsigned char c : message) {
    if (c < 0x20 || c > 0x7e || c == '%') {
      out += fmt::format("%{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void toGrpcLocalReply(http::response<http::string_body>& response) {
  if (!grpcStatusIn(response.base())) response.set("grpc-status", std::to_string(grpcStatusForHttp(response.result_int())));
  if (!response.body().empty() && response["grpc-message"].empty()) {
    std::string_view body = response.body();
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
    response.set("grpc-message", percentEncodeGrpcMessage(body));
  }
  response.result(http::status::ok);
  response.set(http::field::content_type, "application/grpc");
  response.body().clear();
  response.erase(http::field::content_length);
}

std::optional<unsigned> grpcStatusIn(const http::fields& fields) {
  auto found = fields.find("grpc-status");
  if (found == fields.end()) return std::nullopt;
  std::string_view text = found->value();
  unsigned status = 0;
  auto parsed = std::from_chars(text.data(), text.data() + text.size(), status);
  if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) return std::nullopt;
  return status;
}

bool retriableGrpcStatus(std::string_view retryOn, const http::fields& responseHeaders) {
  auto status = grpcStatusIn(responseHeaders);
  if (!status) return false;
  std::string_view wanted;
  switch (*status) {
    case grpc_code::kCancelled: wanted = "cancelled"; break;
    case grpc_code::kDeadlineExceeded: wanted = "deadline-exceeded"; break;
    case grpc_code::kResourceExhausted: wanted = "resource-exhausted"; break;
    case grpc_code::kUnavailable: wanted = "unavailable"; break;
    case grpc_code::kInternal: wanted = "internal"; break;
    default: return false;
  }
  return retryOnHas(retryOn, wanted);
}

}  // namespace weft::proxy
