#pragma once
// The response shapes go-httpbin's helpers write (writeJSON, writeError, http.Error), so
// every endpoint answers errors the same way.

#include <string_view>

#include <boost/json/value.hpp>

#include "httpbin/http_message.h"

namespace weft::httpbin {

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
inline constexpr std::string_view kHtmlContentType = "text/html; charset=utf-8";
inline constexpr std::string_view kBinaryContentType = "application/octet-stream";

// writeJSON: indented JSON and a newline.
Response jsonResponse(int status, const boost::json::value& body);

// writeError: {"status_code": 400, "error": "Bad Request", "detail": "..."}; no "detail"
// when it is empty.
Response errorResponse(int status, std::string_view detail = {});

// http.Error: the text and a newline, as text/plain with X-Content-Type-Options: nosniff
// (ServeMux's 404 and 405 answers).
Response plainError(int status, std::string_view text);

}  // namespace weft::httpbin
