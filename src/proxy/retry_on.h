#pragma once
// Envoy's `retryOn`: a comma-separated list of conditions ("5xx,connect-failure,reset").
// The HTTP status conditions are here; the gRPC ones (grpc-status) in grpc_status.h.

#include <string_view>

namespace weft::proxy {

// Whether the list names `condition` (items trimmed of spaces, compared exactly).
bool retryOnHas(std::string_view list, std::string_view condition);

// Whether an answer with this HTTP status is retried: 5xx, gateway-error (502/503/504),
// and 503 through retriable-status-codes (Istio's default policy) or "503".
bool retriableStatus(std::string_view retryOn, unsigned status);

}  // namespace weft::proxy
