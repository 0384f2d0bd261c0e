#pragma once
// An HTTP/1.1 message as the buffers of one write: the head rendered into a string the
// caller keeps (and reuses), then the body.
//
// Why not Beast's serializer: it walks the message through nested buffer views (a
// buffers_cat_view of the start line, every field and the body, then prefixes and
// suffixes of it for each write_some), which perf showed as about a tenth of weft-proxy's
// CPU per request (bench/proxy_bench.sh). Our messages are whole strings, so the general
// machinery buys nothing. The bytes are the same as Beast's (http1_writer_test.cc checks
// it against Beast for every shape we send).

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <string>

namespace weft::proxy {

// The head (start line, fields, blank line), and the body when it is small enough that a
// copy is cheaper than another buffer (on TLS, another record).
template <bool isRequest>
std::array<boost::asio::const_buffer, 2> gatherMessage(const boost::beast::http::message<isRequest, boost::beast::http::string_body>& message,
                                                       std::string& scratch);

// The head alone (start line, fields, blank line) into `scratch`: for a body that follows
// in pieces (streamed_body.h), framed by the fields as they stand.
template <bool isRequest>
void renderHead(const boost::beast::http::header<isRequest>& head, std::string& scratch);

}  // namespace weft::proxy
