#pragma once
// The way out of a waypoint or gateway to endpoints enrolled in the mesh: HBONE, as Istio's
// waypoint and ambient-aware gateways send it. Each upstream connection, HTTP/1.1 or HTTP/2
// (h2c inside: h2_upstream.h), is one CONNECT stream ("<pod ip>:<target port>") to the
// endpoint's ztunnel on <pod ip>:15008, over mutual TLS with the proxy's own workload
// certificate, the server's certificate checked against the endpoint's SPIFFE ID from the
// cluster (Cluster.hbone_identities). The endpoint's ztunnel then sees the proxy's
// identity, so a STRICT PeerAuthentication there admits it.
//
// The stream's bytes reach the gateway's upstream code (HTTP/1.1, or the HTTP/2 pool)
// through a socket pair (as on the way in, waypoint_listener.h), so pooling, timeouts and
// retries stay one code path per protocol; a relay coroutine per connection copies between
// the pair and the stream until either side ends. HBONE connections (TLS + HTTP/2) are
// pooled by hbone::HbonePool and carry many such streams.
//
// Threads: the io_context's thread only.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "hbone/hbone_client.h"
#include "hbone/hbone_counters.h"
#include "hbone/tls_context.h"

namespace weft::proxy {

class TunnelUpstream {
 public:
  TunnelUpstream(boost::asio::io_context& io, std::chrono::milliseconds connectTimeout, uint16_t serverPort = 15008);
  ~TunnelUpstream();

  // The proxy's certificate (and its SPIFFE ID, the pool's source key). The gateway creates
  // this only once it has one; until then requests to enrolled endpoints answer 503 UF:
  // sending plaintext to them would bypass their mTLS.
  Status setCredentials(const hbone::TlsCredentials& credentials, std::string identity);
  bool ready() const { return tls_ != nullptr; }

  // A byte stream to `endpoint` ("ip:port") through its ztunnel, whose certificate must be
  // `identity`'s. Fails on TCP, TLS or HTTP/2 trouble and on a refused CONNECT (the error
  // says which, with the answer's status).
  boost::asio::awaitable<Result<boost::asio::local::stream_protocol::socket>> open(std::string endpoint, std::string identity);

  const hbone::HboneCounters& counters() const { return counters_; }
  uint64_t refused() const { return refused_; }
  void stop();

 private:
  boost::asio::io_context& io_;
  uint16_t serverPort_;
  hbone::HboneCounters counters_;
  std::unique_ptr<hbone::HbonePool> pool_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::string identity_;
  uint64_t refused_ = 0;  // CONNECTs answered with anything but 200
};

}  // namespace weft::proxy
