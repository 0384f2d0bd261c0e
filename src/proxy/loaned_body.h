#pragma once
// An HTTP/1.1 client's request body lent to a sender that may outlive the request's
// handling. An HTTP/2 upstream stream sends its request body from a coroutine of its own
// (h2_upstream.h), which holds what it sends by shared_ptr; but this body is read from the
// client's connection, which the session reuses or closes once the answer is out. So the
// session lends the body and recalls it then: a read in flight is cancelled and waited
// for, and every later next() fails, so the sender never touches the connection again.
// One thread (the io thread) uses both sides.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>

#include "proxy/streamed_body.h"

namespace weft::proxy {

class LoanedBody final : public StreamedBody {
 public:
  explicit LoanedBody(StreamedBody& body) : body_(&body) { length = body.length; }

  boost::asio::awaitable<Result<std::string_view>> next() override {
    if (body_ == nullptr) co_return makeError("client body: the request was answered and its connection moved on");
    reading_ = true;
    auto piece = co_await body_->next();
    reading_ = false;
    taken = body_->taken;
    timedOut = body_->timedOut;
    ended_ = body_->ended();
    if (recalling_ != nullptr) {
      // recall() is waiting: the body may go as soon as it runs, so nothing of it is used.
      recalling_->cancel();
      co_return makeError("client body: the request was answered");
    }
    co_return piece;
  }

  bool ended() const override { return ended_; }

  // Ends the loan: `cancelReads` cancels the connection's reads when the borrower is in
  // one, and the loan ends once that read has returned. The lent body may go after this.
  boost::asio::awaitable<void> recall(const std::function<void()>& cancelReads) {
    if (body_ == nullptr) co_return;
    if (reading_) {
      // A cancel reaches only the socket read pending at that instant; a composed read whose
      // last read had already completed may start another (a TLS record or a chunk header
      // split across segments). So cancel again until the borrower's read has returned.
      boost::asio::steady_timer returned(co_await boost::asio::this_coro::executor);
      recalling_ = &returned;
      while (reading_) {
        cancelReads();
        returned.expires_after(std::chrono::milliseconds(10));
        co_await returned.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      }
      recalling_ = nullptr;
    }
    ended_ = body_->ended();
    body_ = nullptr;
  }

 private:
  StreamedBody* body_;
  bool reading_ = false;
  bool ended_ = false;
  boost::asio::steady_timer* recalling_ = nullptr;
};

}  // namespace weft::proxy
