#pragma once
// The server name a TLS client asks for, read from its ClientHello's server_name extension
// (RFC 8446 §4.1.2, RFC 6066 §3) without terminating the TLS: how a gateway routes TLS it
// passes through (Gateway servers with tls mode PASSTHROUGH), as Envoy's tls_inspector does.
// The caller peeks the connection's first bytes and scans them again as more arrive; the
// bytes stay in the socket and go to the backend as they are.
//
// A ClientHello may be split over several handshake records; it is reassembled, up to
// kMaxClientHelloBytes. Anything that is not a well-formed ClientHello is refused with
// the reason.

#include <cstddef>
#include <string>
#include <string_view>

namespace weft::proxy {

// Envoy's tls_inspector reads at most 64 KiB; real ClientHellos (post-quantum key shares
// included) are under 2 KiB, so 16 KiB bounds what a connection can make the gateway hold.
inline constexpr size_t kMaxClientHelloBytes = 16 * 1024;

struct ClientHelloScan {
  enum class State {
    kNeedMore,  // a prefix of a ClientHello so far
    kComplete,  // `sni` is the answer
    kRefused,   // not TLS, or a malformed or oversized ClientHello: `error` says which
  };
  State state = State::kNeedMore;
  std::string sni;    // lower case, no trailing dot; empty when the client sent no server name
  std::string error;
};

ClientHelloScan scanClientHello(std::string_view bytes);

}  // namespace weft::proxy
