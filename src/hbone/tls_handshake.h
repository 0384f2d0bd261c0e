#pragma once
// The TLS half of an HBONE connection, server and client, with the identity checks ztunnel
// makes during the handshake (reference §1.3):
//  - server: the client's chain verifies to the mesh roots and its SPIFFE ID is in our
//    trust domain (which identity is RBAC's business, not ours);
//  - client: the server's SPIFFE ID is one of the identities we expect for the destination.
// Both insist on ALPN "h2". Failures are counted by kind and returned, never thrown.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "base/result.h"
#include "hbone/hbone_counters.h"
#include "tls/spiffe_id.h"

namespace weft::hbone {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

// A handshaken connection and who is on the other end.
struct TlsPeer {
  std::shared_ptr<boost::asio::ssl::context> context;  // kept alive as long as the stream
  std::unique_ptr<TlsStream> stream;
  tls::SpiffeId identity;
};

// The single spiffe:// URI SAN of a certificate, parsed strictly.
Result<tls::SpiffeId> spiffeIdOf(X509* cert);

boost::asio::awaitable<Result<TlsPeer>> acceptHboneTls(boost::asio::ip::tcp::socket socket,
                                                       std::shared_ptr<boost::asio::ssl::context> context,
                                                       std::string trustDomain, std::chrono::milliseconds timeout,
                                                       HboneCounters& counters);

boost::asio::awaitable<Result<TlsPeer>> connectHboneTls(boost::asio::ip::tcp::socket socket,
                                                        std::shared_ptr<boost::asio::ssl::context> context,
                                                        std::vector<std::string> expectedServerIds,
                                                        std::chrono::milliseconds timeout, HboneCounters& counters);

}  // namespace weft::hbone
