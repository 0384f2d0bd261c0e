#pragma once
// Test support: a streamed body made on demand, and the gateway's HTTP/2 server side on a
// thread of its own, for the tests of everything that passes bodies on in pieces (HTTP/2
// towards clients, HTTP/2 upstreams, the gateway).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <thread>

#include <boost/beast/core/tcp_stream.hpp>
#include <fmt/format.h>

#include "proxy/h2_downstream.h"
#include "proxy/streamed_body.h"

namespace weft::proxy::testing {

// `pieces` pieces of 64 KiB ('a', 'b', ... by piece), one made per next(). Before piece
// `gateAt` it waits (up to 10 s) for `gate`; after `failAfter` pieces it fails, as an
// upstream that went away; once all are made, `trailersAtEnd` follow the body.
class PiecesBody final : public StreamedBody {
 public:
  static constexpr size_t kPiece = 64 * 1024;
  static constexpr size_t kNever = SIZE_MAX;

  PiecesBody(size_t pieces, size_t gateAt = kNever, size_t failAfter = kNever, const std::atomic<bool>* gate = nullptr,
             hbone::Headers trailersAtEnd = {})
      : pieces_(pieces), gateAt_(gateAt), failAfter_(failAfter), gate_(gate), trailersAtEnd_(std::move(trailersAtEnd)) {}

  boost::asio::awaitable<Result<std::string_view>> next() override {
    if (made_ == failAfter_) co_return makeError("upstream went away");
    if (made_ == pieces_) {
      trailers = trailersAtEnd_;
      co_return std::string_view();
    }
    if (made_ == gateAt_ && gate_ != nullptr) {
      boost::asio::steady_timer poll(co_await boost::asio::this_coro::executor);
      for (int i = 0; i < 1000 && !gate_->load(); ++i) {
        poll.expires_after(std::chrono::milliseconds(10));
        co_await poll.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      }
      if (!gate_->load()) co_return makeError("the gate never opened");
    }
    piece_.assign(kPiece, static_cast<char>('a' + made_ % 26));
    ++made_;
    taken += piece_.size();
    co_return std::string_view(piece_);
  }
  bool ended() const override { return made_ == pieces_; }

 private:
  size_t pieces_, gateAt_, failAfter_;
  const std::atomic<bool>* gate_;
  hbone::Headers trailersAtEnd_;
  size_t made_ = 0;
  std::string piece_;
};

// A streamed answer body that is the request's streamed body, piece by piece as it comes:
// what a bidirectional echo service sends.
class EchoBody final : public StreamedBody {
 public:
  explicit EchoBody(std::shared_ptr<StreamedBody> request) : request_(std::move(request)) {}
  boost::asio::awaitable<Result<std::string_view>> next() override {
    auto piece = co_await request_->next();
    if (piece) taken += piece->size();
    co_return piece;
  }
  bool ended() const override { return request_->ended(); }

 private:
  std::shared_ptr<StreamedBody> request_;
};

// An HTTP/2 responder's body: takes the request's body (held or in pieces), setting
// `sawFirst` once a piece came, and answers "streamed N" or "held N" with its size.
inline boost::asio::awaitable<H2Answer> countReceived(H2Request request, std::shared_ptr<StreamedBody> body,
                                                      std::atomic<bool>* sawFirst = nullptr) {
  size_t bytes = request.body().size();
  while (body != nullptr) {
    auto piece = co_await body->next();
    if (!piece || piece->empty()) break;
    bytes += piece->size();
    if (sawFirst != nullptr) *sawFirst = true;
  }
  H2Answer answer;
  answer.response.result(boost::beast::http::status::ok);
  answer.response.body() = fmt::format("{} {}", body != nullptr ? "streamed" : "held", bytes);
  answer.response.prepare_payload();
  co_return answer;
}

// serveHttp2 (h2c with prior knowledge) on 127.0.0.1, a port of the kernel's choosing, on
// a thread of its own, answering with `respond`.
class H2TestServer {
 public:
  H2TestServer(H2DownstreamOptions options, H2Responder respond) : options_(options), respond_(std::move(respond)) {
    namespace asio = boost::asio;
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(io_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~H2TestServer() {
    boost::asio::post(io_, [this] { acceptor_.close(); });
    io_.stop();
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  H2DownstreamCounters counters() {
    std::promise<H2DownstreamCounters> copy;
    boost::asio::post(io_, [&] { copy.set_value(counters_); });
    return copy.get_future().get();
  }

 private:
  boost::asio::awaitable<void> acceptLoop() {
    while (true) {
      auto [error, socket] = co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (error) co_return;
      boost::asio::co_spawn(io_, serveOne(std::move(socket)), boost::asio::detached);
    }
  }
  boost::asio::awaitable<void> serveOne(boost::asio::ip::tcp::socket socket) {
    boost::beast::tcp_stream stream(std::move(socket));
    boost::beast::flat_buffer buffer;
    co_await serveHttp2(stream, buffer, respond_, options_, counters_);
  }

  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  H2DownstreamOptions options_;
  H2Responder respond_;
  H2DownstreamCounters counters_;
  std::thread thread_;
};

}  // namespace weft::proxy::testing
