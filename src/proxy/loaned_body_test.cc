#include "proxy/loaned_body.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace weft::proxy {
namespace {

namespace asio = boost::asio;

// A body read from something that answers only when cancelled: the stand-in for a client
// connection with nothing more to read. `alive` says whether it still exists.
class WaitingBody final : public StreamedBody {
 public:
  explicit WaitingBody(asio::io_context& io, bool& alive) : wait_(io), alive_(alive) { alive_ = true; }
  ~WaitingBody() override { alive_ = false; }
  asio::awaitable<Result<std::string_view>> next() override {
    if (pieces_ > 0) {
      --pieces_;
      taken += 5;
      co_return std::string_view("piece");
    }
    wait_.expires_at(asio::steady_timer::time_point::max());
    co_await wait_.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return makeError("cancelled");
  }
  bool ended() const override { return false; }
  void cancel() { wait_.cancel(); }
  int pieces_ = 1;

 private:
  asio::steady_timer wait_;
  bool& alive_;
};

TEST(LoanedBody, RecallCancelsTheBorrowersReadAndWaitsForItBeforeTheBodyGoes) {
  asio::io_context io;
  bool alive = false;
  auto body = std::make_unique<WaitingBody>(io, alive);
  auto loan = std::make_shared<LoanedBody>(*body);
  std::vector<std::string> borrowerSaw;
  bool aliveWhenBorrowerReturned = false;
  // The borrower (an HTTP/2 sender) takes a piece, then waits in a read.
  asio::co_spawn(
      io,
      [](std::shared_ptr<LoanedBody> loan, std::vector<std::string>& saw, bool& alive, bool& aliveAtReturn) -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
          auto piece = co_await loan->next();
          aliveAtReturn = alive;
          saw.push_back(piece ? std::string(*piece) : "error: " + piece.error().message);
          if (!piece) co_return;
        }
      }(loan, borrowerSaw, alive, aliveWhenBorrowerReturned),
      asio::detached);
  io.poll();
  ASSERT_EQ(borrowerSaw, std::vector<std::string>{"piece"});
  EXPECT_EQ(loan->taken, 5u);
  // The session, done with the request, recalls the loan and then lets the body go.
  bool recalled = false;
  asio::co_spawn(
      io,
      [](std::shared_ptr<LoanedBody> loan, std::unique_ptr<WaitingBody>& body, bool& recalled) -> asio::awaitable<void> {
        co_await loan->recall([&] { body->cancel(); });
        body.reset();
        recalled = true;
      }(loan, body, recalled),
      asio::detached);
  io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(recalled);
  ASSERT_EQ(borrowerSaw.size(), 2u);
  EXPECT_EQ(borrowerSaw[1], "error: client body: the request was answered");
  EXPECT_TRUE(aliveWhenBorrowerReturned) << "the borrower's read returned before the body went";
  EXPECT_FALSE(alive);
  // Later reads fail at once, touching nothing.
  bool failed = false;
  asio::co_spawn(
      io,
      [](std::shared_ptr<LoanedBody> loan, bool& failed) -> asio::awaitable<void> {
        auto piece = co_await loan->next();
        failed = !piece;
      }(loan, failed),
      asio::detached);
  io.restart();
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(failed);
}

TEST(LoanedBody, ARecallWithNoReadInFlightEndsAtOnce) {
  asio::io_context io;
  bool alive = false;
  auto body = std::make_unique<WaitingBody>(io, alive);
  auto loan = std::make_shared<LoanedBody>(*body);
  bool cancelled = false;
  bool recalled = false;
  asio::co_spawn(
      io,
      [](std::shared_ptr<LoanedBody> loan, bool& cancelled, bool& recalled) -> asio::awaitable<void> {
        co_await loan->recall([&] { cancelled = true; });
        recalled = true;
      }(loan, cancelled, recalled),
      asio::detached);
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(recalled);
  EXPECT_FALSE(cancelled) << "nothing to cancel: the connection's reads are the session's own";
}

}  // namespace
}  // namespace weft::proxy
