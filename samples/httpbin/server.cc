#include "httpbin/server.h"

#include <array>
#include <chrono>
#include <ctime>
#include <exception>
#include <list>
#include <random>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "httpbin/access_log.h"
#include "httpbin/request_echo.h"
#include "httpbin/responses.h"
#include "httpbin/status_text.h"

namespace weft::httpbin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Error codes come back as values (no exceptions on the data path).
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

// go-httpbin's http.Server allows 16 KiB of header, to which Go adds 4 KiB of slack.
constexpr std::uint32_t kMaxHeaderBytes = 20 * 1024;
// How long a keep-alive connection may wait for its next request (the whole head included).
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kBodyTimeout = std::chrono::seconds(30);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
// After answering with Connection: close, unread client bytes are drained this long before
// closing, so the close does not reset the connection before the client reads the answer.
constexpr auto kLingerTimeout = std::chrono::seconds(1);
constexpr std::size_t kMaxLingerBytes = 64 * 1024;
// go-httpbin's shutdown waits for requests in flight up to -max-duration plus a second.
constexpr auto kDrainGrace = std::chrono::seconds(1);

void logError(std::string_view what) {
  writeLogLine(formatMessageLine(std::chrono::system_clock::now(), "ERROR", what));
}

// co_spawn's completion: a coroutine that ended by exception is logged, never rethrown.
void logFailure(std::exception_ptr failure) {
  if (!failure) return;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    logError(fmt::format("connection failed: {}", e.what()));
  }
}

// The Date header, formatted once a second per thread (no shared cache, no lock).
std::string_view httpDate() {
  thread_local std::time_t cachedSecond = -1;
  thread_local std::array<char, 64> text{};
  thread_local std::size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cachedSecond) {
    std::tm utc{};
    gmtime_r(&now, &utc);
    length = std::strftime(text.data(), text.size(), "%a, %d %b %Y %H:%M:%S GMT", &utc);
    cachedSecond = now;
  }
  return {text.data(), length};
}

std::string peerIp(const tcp::socket& socket) {
  boost::system::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return {};
  asio::ip::address address = peer.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());  // as Go reports them
  }
  return address.to_string();
}

Request toRequest(http::request<http::string_body>&& message, const std::string& remoteIp) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.version = message.version();
  for (const auto& field : message) {
    request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  request.body = std::move(message.body());
  request.remoteIp = remoteIp;
  return request;
}

template <class Body>
void writeHead(http::response<Body>& message, const Response& response, unsigned version, bool keepAlive) {
  message.version(version);
  message.result(static_cast<unsigned>(response.status));
  message.reason(reasonPhrase(response.status));
  for (const Header& header : response.headers) message.insert(header.name, header.value);
  if (message.find(http::field::date) == message.end()) message.set(http::field::date, httpDate());
  message.keep_alive(keepAlive);
}

// Beast's parse errors become Go's answers to them: 431 for an oversized head, 413 for an
// oversized body, 400 for anything malformed. Zero: the peer left (closed, reset, timed out
// or stopped mid-message), so there is nobody to answer.
int refusalStatus(const beast::error_code& ec) {
  static const auto& httpErrors = http::make_error_code(http::error::bad_target).category();
  if (ec.category() != httpErrors) return 0;
  switch (static_cast<http::error>(ec.value())) {
    case http::error::end_of_stream:
    case http::error::partial_message: return 0;
    case http::error::header_limit:
    case http::error::buffer_overflow: return 431;
    case http::error::body_limit: return 413;
    default: return 400;
  }
}

// The helpers below borrow the connection's stream: their caller owns it and stays
// suspended until they finish, so the reference cannot dangle.

asio::awaitable<void> lingeringClose(beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  stream.expires_after(kLingerTimeout);
  std::array<char, 4096> discard;
  for (std::size_t drained = 0; drained < kMaxLingerBytes;) {
    auto [readEc, n] = co_await stream.async_read_some(asio::buffer(discard), kAsTuple);
    if (readEc) break;
    drained += n;
  }
}

asio::awaitable<void> refuse(beast::tcp_stream& stream, beast::error_code ec) {
  const int status = refusalStatus(ec);
  if (status == 0) co_return;
  http::response<http::string_body> message;
  Response refusal;
  refusal.status = status;
  refusal.headers.push_back({"Content-Type", std::string(kTextContentType)});
  writeHead(message, refusal, 11, false);
  message.body() = fmt::format("{} {}", status, reasonPhrase(status));
  message.prepare_payload();
  stream.expires_after(kWriteTimeout);
  auto [writeEc, n] = co_await http::async_write(stream, message, kAsTuple);
  if (!writeEc) co_await lingeringClose(stream);
}

// The write's outcome and the body bytes sent.
using Sent = std::tuple<beast::error_code, std::uint64_t>;

// Writes the answer. HEAD gets the headers a GET would have carried, Content-Length
// included, and no body.
asio::awaitable<Sent> send(beast::tcp_stream& stream, bool head, unsigned version, Response response, bool keepAlive) {
  stream.expires_after(kWriteTimeout);
  if (!response.chunks.empty() && !head) {
    http::response<http::empty_body> message;
    writeHead(message, response, version, keepAlive);
    message.chunked(true);
    http::response_serializer<http::empty_body> serializer{message};
    auto [headEc, headBytes] = co_await http::async_write_header(stream, serializer, kAsTuple);
    if (headEc) co_return Sent{headEc, 0};
    std::uint64_t sent = 0;
    for (const std::string& chunk : response.chunks) {
      auto [chunkEc, chunkBytes] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(chunk)), kAsTuple);
      if (chunkEc) co_return Sent{chunkEc, sent};
      sent += chunk.size();
    }
    auto [lastEc, lastBytes] = co_await asio::async_write(stream, http::make_chunk_last(), kAsTuple);
    co_return Sent{lastEc, sent};
  }

  std::string body = std::move(response.body);
  for (const std::string& chunk : response.chunks) body += chunk;
  http::response<http::string_body> message;
  writeHead(message, response, version, keepAlive);
  const std::uint64_t size = body.size();
  // 204 and 304 carry neither a body nor a Content-Length.
  const bool bodyAllowed = response.status != 204 && response.status != 304;
  if (bodyAllowed) message.content_length(size);
  if (bodyAllowed && !head) message.body() = std::move(body);
  auto [ec, n] = co_await http::async_write(stream, message, kAsTuple);
  co_return Sent{ec, head || !bodyAllowed ? 0 : size};
}

bool expectsContinue(const http::request<http::string_body>& message) {
  return message.version() >= 11 && beast::iequals(message[http::field::expect], "100-continue");
}

}  // namespace

class Worker {
 public:
  Worker(const Settings& settings, std::uint64_t seed) : settings_(settings), random_(seed) {}

  ~Worker() {
    // The io_context destroys coroutines still pending (a drain cut short); their
    // bookkeeping must then leave the timer below alone.
    stopping_ = true;
  }

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  asio::io_context& context() { return context_; }

  void run() {
    for (;;) {
      try {
        context_.run();
        return;
      } catch (const std::exception& e) {
        logError(fmt::format("worker: {}", e.what()));  // one failed handler must not stop the worker
      }
    }
  }

  // Any thread: the socket was accepted onto this worker's io_context.
  void adopt(tcp::socket socket) { asio::co_spawn(context_, serve(std::move(socket)), logFailure); }

  // Any thread.
  void drain() {
    asio::post(context_, [this] { drainHere(); });
  }

 private:
  struct LiveConnection {
    beast::tcp_stream* stream;
    bool idle;  // waiting for a request: drain closes it at once
  };
  using Connections = std::list<LiveConnection>;

  // Removes a connection from the list when its coroutine ends, however it ends.
  struct Registration {
    Worker& worker;
    Connections::iterator entry;
    ~Registration() { worker.connectionEnded(entry); }
  };

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    if (draining_) co_return;
    Registration registration{*this, connections_.insert(connections_.end(), {&stream, true})};
    LiveConnection& live = *registration.entry;
    const std::string remoteIp = peerIp(stream.socket());
    beast::flat_buffer buffer;
    asio::steady_timer delayTimer(context_);

    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kMaxHeaderBytes);
      parser.body_limit(settings_.maxBodyBytes);
      live.idle = true;
      stream.expires_after(kIdleTimeout);
      auto [headEc, headBytes] = co_await http::async_read_header(stream, buffer, parser, kAsTuple);
      live.idle = false;
      if (headEc) {
        co_await refuse(stream, headEc);
        co_return;
      }
      if (!parser.is_done()) {
        if (expectsContinue(parser.get())) {
          http::response<http::empty_body> proceed{http::status::continue_, 11};
          auto [proceedEc, proceedBytes] = co_await http::async_write(stream, proceed, kAsTuple);
          if (proceedEc) co_return;
        }
        stream.expires_after(kBodyTimeout);
        auto [bodyEc, bodyBytes] = co_await http::async_read(stream, buffer, parser, kAsTuple);
        if (bodyEc) {
          co_await refuse(stream, bodyEc);
          co_return;
        }
      }

      const auto startedWall = std::chrono::system_clock::now();
      const auto started = std::chrono::steady_clock::now();
      http::request<http::string_body> message = parser.release();
      const bool clientKeepsAlive = message.keep_alive();
      const Request request = toRequest(std::move(message), remoteIp);
      Response response = answer(request);
      if (response.delay.count() > 0) {
        delayTimer.expires_after(response.delay);
        co_await delayTimer.async_wait(kAsTuple);
      }
      const int status = response.status;
      const bool keepAlive = clientKeepsAlive && !response.close && !draining_;
      auto [writeEc, bodySize] =
          co_await send(stream, request.method == "HEAD", request.version, std::move(response), keepAlive);

      AccessRecord record;
      record.time = startedWall;
      record.status = status;
      record.method = request.method;
      record.uri = request.target;
      record.sizeBytes = bodySize;
      record.duration = std::chrono::steady_clock::now() - started;
      record.userAgent = headerValue(request, "User-Agent");
      const std::string client = clientIp(request);
      record.clientIp = client;
      writeLogLine(formatAccessLine(record));

      if (writeEc) co_return;
      if (!keepAlive) {
        co_await lingeringClose(stream);
        co_return;
      }
    }
  }

  Response answer(const Request& request) {
    try {
      return handleRequest(request, settings_, random_);
    } catch (const std::exception& e) {
      logError(fmt::format("{} {}: {}", request.method, request.target, e.what()));
      Response failure = errorResponse(500);
      failure.close = true;
      return failure;
    }
  }

  void drainHere() {
    if (draining_) return;
    draining_ = true;
    keepRunning_.reset();  // run() may now return once the connections are gone
    for (LiveConnection& connection : connections_) {
      if (connection.idle) connection.stream->cancel();
    }
    if (!connections_.empty()) {
      drainDeadline_.expires_after(settings_.maxDuration + kDrainGrace);
      drainDeadline_.async_wait([this](beast::error_code ec) {
        if (!ec) context_.stop();
      });
    }
  }

  void connectionEnded(Connections::iterator entry) {
    connections_.erase(entry);
    if (draining_ && connections_.empty() && !stopping_) drainDeadline_.cancel();
  }

  // Declared before the io_context so that they outlive it: coroutines it destroys on the
  // way out still unregister themselves.
  const Settings& settings_;
  std::mt19937_64 random_;
  Connections connections_;
  bool draining_ = false;
  bool stopping_ = false;

  asio::io_context context_{1};  // run by one thread: the hint lets Asio skip cross-thread wakeups
  asio::executor_work_guard<asio::io_context::executor_type> keepRunning_{context_.get_executor()};
  asio::steady_timer drainDeadline_{context_};
};

namespace {

// Accepts on the first worker and hands each connection to the next worker in turn.
asio::awaitable<void> acceptConnections(tcp::acceptor& acceptor, std::vector<Worker*> workers) {
  asio::steady_timer backoff(acceptor.get_executor());
  for (std::size_t next = 0;; next = (next + 1) % workers.size()) {
    Worker& worker = *workers[next];
    tcp::socket peer(worker.context());
    auto [ec] = co_await acceptor.async_accept(peer, kAsTuple);
    if (!acceptor.is_open()) co_return;  // drain() closed it
    if (ec) {
      // Out of file descriptors and the like: wait instead of spinning on the same error.
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(kAsTuple);
      continue;
    }
    peer.set_option(tcp::no_delay(true), ec);
    worker.adopt(std::move(peer));
  }
}

}  // namespace

Server::Server(const ServerOptions& options) : options_(options) {
  std::random_device entropy;
  for (unsigned i = 0; i < std::max(1u, options_.threads); ++i) {
    const std::uint64_t seed = (std::uint64_t{entropy()} << 32) | entropy();
    workers_.push_back(std::make_unique<Worker>(options_.settings, seed));
  }
}

Server::~Server() {
  if (!threads_.empty()) {
    drain();
    join();
  }
}

Result<std::unique_ptr<Server>> Server::listen(const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server(options));
  asio::io_context& context = server->workers_.front()->context();
  const std::string where = options.host.find(':') != std::string::npos
                                ? fmt::format("[{}]:{}", options.host, options.port)
                                : fmt::format("{}:{}", options.host, options.port);
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  const asio::ip::address address = asio::ip::make_address(options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options.port);
  } else {
    tcp::resolver resolver(context);
    auto results = resolver.resolve(options.host, std::to_string(options.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return makeError("listen tcp {}: lookup {}: {}", where, options.host, ec ? ec.message() : "no address");
    }
    endpoint = results.begin()->endpoint();
  }

  auto acceptor = std::make_unique<tcp::acceptor>(context);
  if (acceptor->open(endpoint.protocol(), ec); ec) return makeError("listen tcp {}: socket: {}", where, ec.message());
  acceptor->set_option(asio::socket_base::reuse_address(true), ec);  // restart while old connections linger
  if (acceptor->bind(endpoint, ec); ec) return makeError("listen tcp {}: bind: {}", where, ec.message());
  if (acceptor->listen(asio::socket_base::max_listen_connections, ec); ec) {
    return makeError("listen tcp {}: listen: {}", where, ec.message());
  }
  server->acceptor_ = std::move(acceptor);
  return server;
}

tcp::endpoint Server::endpoint() const {
  boost::system::error_code ec;
  return acceptor_->local_endpoint(ec);
}

void Server::start() {
  std::vector<Worker*> workers;
  for (auto& worker : workers_) workers.push_back(worker.get());
  asio::co_spawn(workers_.front()->context(), acceptConnections(*acceptor_, workers), logFailure);
  for (auto& worker : workers_) threads_.emplace_back([&w = *worker] { w.run(); });
}

void Server::drain() {
  asio::post(workers_.front()->context(), [this] {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  });
  for (auto& worker : workers_) worker->drain();
}

void Server::join() {
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace weft::httpbin
