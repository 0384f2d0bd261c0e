#pragma once
// What the gateway refuses before routing, without I/O: request smuggling shapes (both
// Content-Length and Transfer-Encoding), header blocks over 60 KiB or 100 fields, and
// whatever Beast's parser refuses. The server feeds its parser and asks these; the tests
// feed bytes.

#include <boost/beast/http.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace weft::proxy {

inline constexpr size_t kMaxHeaderBytes = 60 * 1024;
inline constexpr size_t kMaxHeaderCount = 100;
inline constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

struct Rejection {
  unsigned status = 400;
  std::string body;
};

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Limits every downstream parser gets.
void configureParser(RequestParser& parser);

// The answer to a parse error of the request head (431 for the header limit, else 400).
Rejection rejectionFor(const boost::beast::error_code& error);

// Checks of a parsed head that Beast does not make itself.
std::optional<Rejection> checkRequestHead(const boost::beast::http::request_header<>& head);

// Tests and fuzzing: the whole check over raw bytes holding at least the request head.
std::optional<Rejection> checkRawRequest(std::string_view bytes);

}  // namespace weft::proxy
