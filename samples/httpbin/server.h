#pragma once
// weft-httpbin's HTTP/1.1 server: Boost.Beast over one io_context per worker thread.
//
// Invariants:
//   - each Worker's io_context is run by exactly one thread, and a connection (socket,
//     buffer, timers), the worker's random generator and its connection list are touched
//     only from that thread, so nothing on the request path takes a lock;
//   - the only cross-thread traffic is posting: the accepting worker hands each new socket
//     to the next worker round-robin, and drain() posts the shutdown to every worker;
//   - one acceptor, bound exclusively: a port already in use fails start-up instead of
//     silently sharing it as SO_REUSEPORT would.

#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "base/result.h"
#include "httpbin/endpoints.h"

namespace weft::httpbin {

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;  // 0 picks a free port; see Server::endpoint()
  unsigned threads = 1;
  Settings settings;
};

class Worker;

class Server {
 public:
  // Resolves and binds; a failure here fails start-up.
  static Result<std::unique_ptr<Server>> listen(const ServerOptions& options);
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  boost::asio::ip::tcp::endpoint endpoint() const;

  void start();  // starts the worker threads and accepting
  // Thread-safe. Stops accepting, closes idle keep-alive connections, lets requests in
  // flight finish (bounded by the longest /delay plus a second, as go-httpbin's shutdown).
  void drain();
  void join();   // returns once every worker has drained

 private:
  explicit Server(const ServerOptions& options);

  ServerOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;  // on workers_[0]'s io_context
  std::vector<std::thread> threads_;
};

}  // namespace weft::httpbin
