#include "proxy/http1_writer.h"

#include <fmt/format.h>

namespace weft::proxy {

namespace http = boost::beast::http;

namespace {

// Bodies up to this size travel in the head's buffer.
constexpr size_t kInlineBody = 16 * 1024;

void appendStartLine(const http::header<true>& head, std::string& out) {
  out.append(head.method_string());
  out.push_back(' ');
  out.append(head.target());
  out.append(head.version() == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
}

void appendStartLine(const http::header<false>& head, std::string& out) {
  out.append(head.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  fmt::format_to(std::back_inserter(out), "{:03d} ", head.result_int());
  out.append(head.reason());
  out.append("\r\n");
}

}  // namespace

template <bool isRequest>
void renderHead(const http::header<isRequest>& head, std::string& scratch) {
  scratch.clear();
  appendStartLine(head, scratch);
  for (const auto& field : head) {
    scratch.append(field.name_string());
    scratch.append(": ");
    scratch.append(field.value());
    scratch.append("\r\n");
  }
  scratch.append("\r\n");
}

template <bool isRequest>
std::array<boost::asio::const_buffer, 2> gatherMessage(const http::message<isRequest, http::string_body>& message, std::string& scratch) {
  renderHead(message.base(), scratch);
  const std::string& body = message.body();
  if (message.chunked()) {
    // The whole body as one chunk, then the last chunk: what Beast sends for a string body.
    if (!body.empty()) {
      fmt::format_to(std::back_inserter(scratch), "{:x}\r\n", body.size());
      scratch.append(body);
      scratch.append("\r\n");
    }
    scratch.append("0\r\n\r\n");
    return {boost::asio::buffer(scratch), boost::asio::const_buffer()};
  }
  if (body.size() <= kInlineBody) {
    scratch.append(body);
    return {boost::asio::buffer(scratch), boost::asio::const_buffer()};
  }
  return {boost::asio::buffer(scratch), boost::asio::buffer(body)};
}

template void renderHead(const http::header<true>&, std::string&);
template void renderHead(const http::header<false>&, std::string&);
template std::array<boost::asio::const_buffer, 2> gatherMessage(const http::message<true, http::string_body>&, std::string&);
template std::array<boost::asio::const_buffer, 2> gatherMessage(const http::message<false, http::string_body>&, std::string&);

}  // namespace weft::proxy
