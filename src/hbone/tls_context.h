#pragma once
// TLS contexts for HBONE (reference §1.3): TLS 1.3 only with the two AES-GCM suites, ALPN
// "h2" offered (client) or required (server), client certificates required, peers verified
// against the mesh roots, no session resumption. Identity checks on top of the chain (trust
// domain, expected SANs) are per connection; see tls_handshake.h.

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "base/result.h"

namespace weft::hbone {

inline constexpr const char* kHboneCipherSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";

// A workload's credentials as the CA hands them out.
struct TlsCredentials {
  std::string certChainPem;  // leaf first, then intermediates (a trailing root is harmless)
  std::string keyPem;
  std::string rootsPem;      // the mesh roots peers are verified against
};

Result<std::shared_ptr<boost::asio::ssl::context>> makeServerTlsContext(const TlsCredentials& credentials);
Result<std::shared_ptr<boost::asio::ssl::context>> makeClientTlsContext(const TlsCredentials& credentials);

}  // namespace weft::hbone
