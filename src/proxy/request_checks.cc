#include "proxy/request_checks.h"

namespace weft::proxy {

namespace http = boost::beast::http;

void configureParser(RequestParser& parser) {
  parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
  parser.body_limit(kMaxBodyBytes);
}

Rejection rejectionFor(const boost::beast::error_code& error) {
  if (error == http::error::header_limit) return {431, "request header fields too large\n"};
  if (error == http::error::body_limit) return {413, "payload too large\n"};
  return {400, "bad request\n"};
}

std::optional<Rejection> checkRequestHead(const http::request_header<>& head) {
  // RFC 9112 6.3: a message with both is a smuggling attempt; Envoy refuses it too.
  if (head.find(http::field::content_length) != head.end() && head.find(http::field::transfer_encoding) != head.end()) {
    return Rejection{400, "bad request\n"};
  }
  size_t count = 0;
  for (auto it = head.begin(); it != head.end(); ++it) {
    if (++count > kMaxHeaderCount) return Rejection{431, "request header fields too large\n"};
  }
  if (head.version() != 11 && head.version() != 10) return Rejection{400, "bad request\n"};
  return std::nullopt;
}

std::optional<Rejection> checkRawRequest(std::string_view bytes) {
  RequestParser parser;
  configureParser(parser);
  parser.eager(false);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < bytes.size() && !parser.is_header_done()) {
    size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == http::error::need_more) return Rejection{400, "incomplete request\n"};
    if (ec) return rejectionFor(ec);
    if (n == 0) break;
    used += n;
  }
  if (!parser.is_header_done()) return Rejection{400, "incomplete request\n"};
  return checkRequestHead(parser.get().base());
}

}  // namespace weft::proxy
