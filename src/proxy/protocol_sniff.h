#pragma once
// Whether a connection's first bytes are HTTP, for a waypoint's Service port that declares
// no protocol (Envoy's HTTP inspector does this in front of Istio's waypoint): an HTTP/1.x
// request line ("METHOD SP target SP HTTP/1.0|1.1 CRLF") or the HTTP/2 connection preface.
// Anything else is another protocol and is relayed as bytes. A pure function of the bytes
// seen so far, so it is tested without sockets.

#include <chrono>
#include <cstddef>
#include <string_view>

namespace weft::proxy {

enum class SniffedProtocol {
  kHttp,      // a request line or the preface (or a start of one longer than kMaxSniffBytes)
  kNotHttp,   // a byte no request line or preface can have there
  kNeedMore,  // a start of one, cut short: peek again when more has come
};

// The most a caller needs to peek: a request line not decided within this many bytes is
// taken for HTTP (a long request-target; the HTTP parser then judges it).
inline constexpr size_t kMaxSniffBytes = 4096;

// How long a waypoint waits for a client's first bytes (to sniff HTTP on a port with no
// declared protocol, or to read a ClientHello's SNI for tls[] routes) before taking the
// connection for one where the server speaks first.
inline constexpr std::chrono::seconds kFirstBytesWait{1};

SniffedProtocol sniffProtocol(std::string_view firstBytes);

}  // namespace weft::proxy
