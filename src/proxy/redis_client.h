#pragma once
// A small Redis client for global rate limits, on the proxy's io_context (coroutines, no
// thread of its own). It sends a batch of commands in one write (a pipeline) and reads one
// reply per command, with RESP parsed by proxy/resp.h.
//
// - Connections are reused: at most maxConnections are open, idle ones wait in a list,
//   and a call that finds all of them busy waits for one (within its timeout). A reused
//   connection that the server closed while idle is replaced once, before any reply byte.
// - Every call has one deadline (options.timeout) for connecting, writing and reading.
// - Nothing a server sends can crash it: a malformed reply, a reply over kMaxReplyBytes or
//   a closed connection is a failure of that call, and the connection is dropped.
// - After a failure to connect, calls fail at once (kUnavailable) for options.backoff, so a
//   dead Redis costs requests nothing while it is dead.
// - Warnings go to the log when Redis starts failing (at most one per 10 s, with a count
//   of the others) and an info line when it answers again; never one per request.
//
// The caller decides what a failure means (the rate limiter allows the request).
//
// Invariant: open_ == idle_.size() + connections handed out by acquire().
// Threads: io thread only. Coroutines capture `this`: the client must outlive the io
// context's run (the GatewayServer owns it, as it owns its sessions' state).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "proxy/resp.h"

namespace weft::proxy {

struct RedisClientOptions {
  std::chrono::milliseconds timeout{200};    // per call: connect, write and every reply
  std::chrono::milliseconds backoff{1000};   // after a connect failure, fail at once this long
  size_t maxConnections = 16;
};

enum class RedisFailure {
  kNone,
  kUnavailable,  // cannot resolve or connect, or backing off after that
  kTimeout,      // no connection free, or no reply, within the timeout
  kProtocol,     // a reply that is not RESP, or too large
  kClosed,       // the server closed the connection mid-call
};
const char* redisFailureName(RedisFailure failure);  // "unavailable", "timeout", ...

struct RedisReply {
  RedisFailure failure = RedisFailure::kNone;
  std::string message;             // what failed, for logs
  std::vector<RespValue> replies;  // kNone: one per command, in order (a Redis -ERR is a reply)
};

class RedisClient {
 public:
  static constexpr size_t kMaxReplyBytes = 64 * 1024;

  RedisClient(boost::asio::io_context& io, std::string host, std::string port, RedisClientOptions options = {});
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Each command is its arguments: {"INCR", "key"}.
  boost::asio::awaitable<RedisReply> execute(std::vector<std::vector<std::string>> commands);

  std::string address() const { return host_ + ":" + port_; }
  size_t openConnections() const { return open_; }
  size_t idleConnections() const { return idle_.size(); }

 private:
  struct Connection {
    boost::beast::tcp_stream stream;
    std::string buffer;  // bytes read and not parsed yet
  };
  using Clock = std::chrono::steady_clock;

  // A connection within `deadline`: an idle one, a new one, or one freed meanwhile; or
  // none, with the failure.
  struct Acquired {
    std::unique_ptr<Connection> connection;
    bool reused = false;
    RedisReply failure;
  };
  boost::asio::awaitable<Acquired> acquire(Clock::time_point deadline);
  boost::asio::awaitable<Acquired> connect(Clock::time_point deadline);
  // One exchange; the connection comes back with the outcome (to be released or dropped).
  struct Exchanged {
    RedisReply reply;
    std::unique_ptr<Connection> connection;
    bool gotBytes = false;  // whether any reply byte arrived
  };
  boost::asio::awaitable<Exchanged> exchange(std::unique_ptr<Connection> connection, std::string request, size_t replies,
                                             Clock::time_point deadline);
  void release(std::unique_ptr<Connection> connection);  // back to the idle list
  void discard();                                         // a connection handed out is gone
  void wakeOne();
  void noteFailure(const RedisReply& reply);
  void noteSuccess();

  boost::asio::io_context& io_;
  std::string host_, port_;
  RedisClientOptions options_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters_;
  Clock::time_point backoffUntil_{};
  std::string lastConnectError_;
  bool failing_ = false;
  Clock::time_point lastWarning_{};
  uint64_t suppressedWarnings_ = 0;
};

}  // namespace weft::proxy
