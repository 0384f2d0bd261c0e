#include "proxy/redis_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <charconv>

namespace weft::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kWarningInterval = std::chrono::seconds(10);

RedisReply failed(RedisFailure kind, std::string message) { return RedisReply{kind, std::move(message), {}}; }

// A failure on an open connection: its deadline passed, or the server went away.
RedisFailure classify(const boost::system::error_code& ec) {
  return ec == beast::error::timeout ? RedisFailure::kTimeout : RedisFailure::kClosed;
}

}  // namespace

const char* redisFailureName(RedisFailure failure) {
  switch (failure) {
    case RedisFailure::kNone: return "none";
    case RedisFailure::kUnavailable: return "unavailable";
    case RedisFailure::kTimeout: return "timeout";
    case RedisFailure::kProtocol: return "protocol";
    case RedisFailure::kClosed: return "closed";
  }
  return "unknown";
}

RedisClient::RedisClient(asio::io_context& io, std::string host, std::string port, RedisClientOptions options)
    : io_(io), host_(std::move(host)), port_(std::move(port)), options_(options) {}

asio::awaitable<RedisReply> RedisClient::execute(std::vector<std::vector<std::string>> commands) {
  auto deadline = Clock::now() + options_.timeout;
  std::string request;
  for (const auto& command : commands) request += encodeCommand(command);
  for (int round = 0;; ++round) {
    Acquired acquired = co_await acquire(deadline);
    if (!acquired.connection) {
      noteFailure(acquired.failure);
      co_return acquired.failure;
    }
    Exchanged done = co_await exchange(std::move(acquired.connection), request, commands.size(), deadline);
    if (done.reply.failure == RedisFailure::kNone) {
      release(std::move(done.connection));
      noteSuccess();
      co_return std::move(done.reply);
    }
    done.connection.reset();
    discard();
    // An idle connection the server closed meanwhile fails before any reply byte; the
    // server read nothing from it, so sending the commands again runs them once.
    if (round == 0 && acquired.reused && !done.gotBytes && done.reply.failure == RedisFailure::kClosed) continue;
    noteFailure(done.reply);
    co_return std::move(done.reply);
  }
}

asio::awaitable<RedisClient::Acquired> RedisClient::acquire(Clock::time_point deadline) {
  while (true) {
    if (!idle_.empty()) {
      Acquired acquired{std::move(idle_.back()), true, {}};
      idle_.pop_back();
      co_return acquired;
    }
    if (open_ < options_.maxConnections) {
      if (Clock::now() < backoffUntil_) {
        co_return Acquired{nullptr, false,
                           failed(RedisFailure::kUnavailable, fmt::format("{} (not retried for {} ms)", lastConnectError_, options_.backoff.count()))};
      }
      ++open_;
      Acquired acquired = co_await connect(deadline);
      if (!acquired.connection) discard();
      co_return acquired;
    }
    if (Clock::now() >= deadline) {
      co_return Acquired{nullptr, false,
                         failed(RedisFailure::kTimeout, fmt::format("all {} connections to {} stayed busy", options_.maxConnections, address()))};
    }
    // Every connection is busy: wait for release() or discard() to wake us, or the deadline.
    auto timer = std::make_shared<asio::steady_timer>(io_, deadline);
    waiters_.push_back(timer);
    co_await timer->async_wait(kUseTuple);
    std::erase(waiters_, timer);
  }
}

asio::awaitable<RedisClient::Acquired> RedisClient::connect(Clock::time_point deadline) {
  auto refuse = [&](std::string why) {
    lastConnectError_ = fmt::format("{}: {}", address(), why);
    backoffUntil_ = Clock::now() + options_.backoff;
    return Acquired{nullptr, false, failed(RedisFailure::kUnavailable, lastConnectError_)};
  };
  unsigned short port = 0;
  std::from_chars(port_.data(), port_.data() + port_.size(), port);
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code literal;
  auto ip = asio::ip::make_address(host_, literal);
  if (!literal) {
    endpoints.emplace_back(ip, port);
  } else {
    // Names come from the pod's hosts file in the local cluster; a name missing there goes
    // to the resolver in resolv.conf, which may take seconds to give up. getaddrinfo runs
    // on Asio's own thread and resolver::cancel() only takes effect once it returns, so we
    // wait on a timer instead: the lookup's handler cuts the wait short, the deadline ends
    // it. The shared state outlives a lookup that finishes after we gave up.
    struct Lookup {
      explicit Lookup(asio::io_context& io, Clock::time_point deadline) : resolver(io), wake(io, deadline) {}
      tcp::resolver resolver;
      asio::steady_timer wake;
      bool finished = false;
      boost::system::error_code error;
      tcp::resolver::results_type results;
    };
    auto lookup = std::make_shared<Lookup>(io_, deadline);
    lookup->resolver.async_resolve(host_, port_, [lookup](const boost::system::error_code& ec, tcp::resolver::results_type results) {
      lookup->finished = true;
      lookup->error = ec;
      lookup->results = std::move(results);
      lookup->wake.cancel();
    });
    co_await lookup->wake.async_wait(kUseTuple);
    if (!lookup->finished) co_return refuse(fmt::format("cannot resolve {}: timed out", host_));
    if (lookup->error) co_return refuse(fmt::format("cannot resolve {}: {}", host_, lookup->error.message()));
    for (const auto& r : lookup->results) endpoints.push_back(r.endpoint());
  }
  auto connection = std::make_unique<Connection>(Connection{beast::tcp_stream(io_), {}});
  connection->stream.expires_at(deadline);
  auto [ec, endpoint] = co_await connection->stream.async_connect(endpoints, kUseTuple);
  if (ec) co_return refuse(ec == beast::error::timeout ? std::string("connect timed out") : ec.message());
  boost::system::error_code ignored;
  connection->stream.socket().set_option(tcp::no_delay(true), ignored);
  co_return Acquired{std::move(connection), false, {}};
}

asio::awaitable<RedisClient::Exchanged> RedisClient::exchange(std::unique_ptr<Connection> connection, std::string request,
                                                              size_t replies, Clock::time_point deadline) {
  Exchanged out;
  auto& stream = connection->stream;
  auto& buffer = connection->buffer;
  out.connection = std::move(connection);  // the frame keeps it alive; `stream` and `buffer` stay valid
  stream.expires_at(deadline);
  auto [writeError, written] = co_await asio::async_write(stream, asio::buffer(request), kUseTuple);
  if (writeError) {
    out.reply = failed(classify(writeError), fmt::format("{}: write: {}", address(), writeError.message()));
    co_return out;
  }
  char chunk[4096];
  while (out.reply.replies.size() < replies) {
    RespParse parsed = parseResp(buffer);
    if (parsed.status == RespParse::Status::kValue) {
      out.reply.replies.push_back(std::move(parsed.value));
      buffer.erase(0, parsed.consumed);
      continue;
    }
    if (parsed.status == RespParse::Status::kMalformed) {
      out.reply = failed(RedisFailure::kProtocol, fmt::format("{}: malformed reply: {}", address(), parsed.error));
      co_return out;
    }
    if (buffer.size() >= kMaxReplyBytes) {
      out.reply = failed(RedisFailure::kProtocol, fmt::format("{}: a reply over {} bytes", address(), kMaxReplyBytes));
      co_return out;
    }
    auto [readError, got] = co_await stream.async_read_some(asio::buffer(chunk), kUseTuple);
    if (got > 0) {
      out.gotBytes = true;
      buffer.append(chunk, got);
    }
    if (readError) {
      const char* what = readError == beast::error::timeout ? "no reply in time" : "read";
      out.reply = failed(classify(readError), fmt::format("{}: {}: {}", address(), what, readError.message()));
      co_return out;
    }
  }
  // Bytes after the last reply answer nothing we sent: the stream is out of step.
  if (!buffer.empty()) out.reply = failed(RedisFailure::kProtocol, fmt::format("{}: unexpected bytes after the replies", address()));
  co_return out;
}

void RedisClient::release(std::unique_ptr<Connection> connection) {
  connection->stream.expires_never();
  idle_.push_back(std::move(connection));
  wakeOne();
}

void RedisClient::discard() {
  --open_;
  wakeOne();
}

void RedisClient::wakeOne() {
  if (waiters_.empty()) return;
  waiters_.front()->cancel();
  waiters_.pop_front();
}

void RedisClient::noteFailure(const RedisReply& reply) {
  failing_ = true;
  auto now = Clock::now();
  if (lastWarning_ != Clock::time_point{} && now - lastWarning_ < kWarningInterval) {
    ++suppressedWarnings_;
    return;
  }
  std::string more = suppressedWarnings_ > 0 ? fmt::format(" ({} more failures since the last warning)", suppressedWarnings_) : "";
  spdlog::warn("rate limit: redis {} failed ({}): {}; requests are allowed while it fails{}", address(), redisFailureName(reply.failure),
               reply.message, more);
  lastWarning_ = now;
  suppressedWarnings_ = 0;
}

void RedisClient::noteSuccess() {
  if (!failing_) return;
  failing_ = false;
  spdlog::info("rate limit: redis {} answers again", address());
}

}  // namespace weft::proxy
