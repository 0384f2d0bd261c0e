#pragma once
// The HBONE client: a pool of HTTP/2 connections per (source identity, destination identity,
// destination IP), reference §1.4. One pool per io_context; its connections live there and
// nothing is locked. Each connection carries at most min(100, peer's
// SETTINGS_MAX_CONCURRENT_STREAMS) streams; a full key gets another connection, and when
// many callers want the same key at once only one of them opens it while the rest wait.
// Connections PING every 10 s, are dropped without an ack in 20 s and are closed after 5
// minutes without streams.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/result.h"
#include "hbone/h2_codec.h"
#include "hbone/hbone_counters.h"
#include "hbone/hbone_stream.h"

namespace weft::hbone {

class H2Connection;

// Makes the (opened, unconnected) TCP socket for a connection to `peer`. The ztunnel opens
// it inside the workload's network namespace and sets SO_MARK; the pool never opens
// sockets itself.
using SocketFactory = std::function<Result<boost::asio::ip::tcp::socket>(const boost::asio::any_io_executor& executor,
                                                                        const boost::asio::ip::tcp::endpoint& peer)>;
SocketFactory plainSocketFactory();

struct ConnectTarget {
  // The pool key: streams share a connection only when all three match.
  std::string sourceIdentity;
  std::string destinationIdentity;
  boost::asio::ip::address destinationIp;

  boost::asio::ip::tcp::endpoint peer;  // the destination's HBONE address, IP:15008
  std::string authority;                // the CONNECT target, "IP:port"
  Headers headers;                      // forwarded, baggage, traceparent...
  // The source workload's certificate chain, key and the mesh roots (makeClientTlsContext).
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::vector<std::string> expectedServerIds;  // the server's SPIFFE ID must be one of these
  SocketFactory makeSocket;                    // empty: plainSocketFactory()
};

struct PoolOptions {
  uint32_t maxStreamsPerConnection = 100;
  std::chrono::milliseconds connectTimeout{10000};
  std::chrono::milliseconds handshakeTimeout{10000};
  std::chrono::milliseconds pingInterval{10000};
  std::chrono::milliseconds pingTimeout{20000};
  std::chrono::milliseconds idleTimeout{std::chrono::minutes(5)};
  // How long a CONNECT waits for its answer on an open connection (a peer that answers
  // PINGs but never the stream would otherwise hold it for ever).
  std::chrono::milliseconds connectAnswerTimeout{10000};
  H2Settings h2 = H2Settings::client();
  size_t streamSendHighWater = 256u << 10;
};

class HbonePool {
 public:
  // `counters` must outlive the pool and every connection it started (until the
  // io_context has run out of work).
  HbonePool(boost::asio::any_io_executor executor, PoolOptions options, HboneCounters& counters);
  ~HbonePool();  // closes every connection
  HbonePool(const HbonePool&) = delete;
  HbonePool& operator=(const HbonePool&) = delete;

  // Opens a tunnel. Fails on TCP, TLS or HTTP/2 trouble (status() 0) and on any answer
  // but 200 (status() is the answer). Call on the pool's io_context.
  boost::asio::awaitable<ConnectResult> connect(ConnectTarget target);

  void closeAll();
  size_t connectionCount() const;  // live connections over all keys

 private:
  using Key = std::tuple<std::string, std::string, boost::asio::ip::address>;
  struct Entry {
    explicit Entry(const boost::asio::any_io_executor& executor) : opened(executor) {}
    std::vector<std::shared_ptr<H2Connection>> connections;
    bool opening = false;
    uint64_t generation = 0;          // bumped each time an opening attempt ends
    std::optional<Error> openError;   // how the last attempt failed, for those who waited
    boost::asio::steady_timer opened; // cancelled when an opening attempt ends
  };

  boost::asio::awaitable<Result<std::shared_ptr<H2Connection>>> openConnection(ConnectTarget target);
  std::shared_ptr<H2Connection> connectionWithRoom(Entry& entry) const;
  void sweep();

  boost::asio::any_io_executor executor_;
  PoolOptions options_;
  HboneCounters& counters_;
  std::map<Key, std::shared_ptr<Entry>> entries_;
};

}  // namespace weft::hbone
