#include "proxy/timed_socket.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A connected loopback pair: the TimedSocket under test and a plain peer.
struct Pair {
  asio::io_context io;
  TimedSocket timed{io.get_executor()};
  tcp::socket peer{io};

  Pair() {
    tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    timed.connect(acceptor.local_endpoint());
    acceptor.accept(peer);
  }
};

// Starts a read on `socket`; the result lands in `result` when it completes.
struct ReadResult {
  std::optional<boost::system::error_code> error;
  size_t bytes = 0;
  char data[16];
};
void startRead(TimedSocket& socket, ReadResult& result) {
  socket.async_read_some(asio::buffer(result.data), [&result](boost::system::error_code ec, size_t n) {
    result.error = ec;
    result.bytes = n;
  });
}

TEST(TimedSocket, ADeadlineThatPassesEndsAPendingReadAndSaysSo) {
  Pair pair;
  ReadResult read;
  pair.timed.expires_after(50ms);
  startRead(pair.timed, read);
  pair.io.run_for(2s);
  ASSERT_TRUE(read.error.has_value());
  EXPECT_TRUE(*read.error) << "the read must fail, not wait on";
  EXPECT_TRUE(pair.timed.expired());
  // The socket was shut down, so the peer sees the end of the stream.
  char byte;
  boost::system::error_code peerError;
  pair.peer.read_some(asio::buffer(&byte, 1), peerError);
  EXPECT_EQ(peerError, asio::error::eof);
}

TEST(TimedSocket, ADeadlineMovedLaterKeepsTheConnection) {
  Pair pair;
  ReadResult read;
  pair.timed.expires_after(60ms);
  startRead(pair.timed, read);
  // Keep moving the deadline on, as a keep-alive connection does with every request, well
  // past the first deadline; then the peer sends.
  asio::steady_timer step(pair.io);
  int moves = 0;
  std::function<void()> moveOn = [&] {
    pair.timed.expires_after(60ms);
    if (++moves == 8) {
      asio::write(pair.peer, asio::buffer("hi", 2));
      return;
    }
    step.expires_after(25ms);
    step.async_wait([&](boost::system::error_code ec) {
      if (!ec) moveOn();
    });
  };
  moveOn();
  // Until the read completes: the deadline passes later, once nothing moves it on.
  while (!read.error && pair.io.run_one_for(2s) > 0) {
  }
  ASSERT_TRUE(read.error.has_value());
  EXPECT_FALSE(*read.error) << read.error->message();
  EXPECT_EQ(read.bytes, 2u);
  EXPECT_FALSE(pair.timed.expired());
}

TEST(TimedSocket, ADeadlineMovedEarlierTakesEffect) {
  Pair pair;
  ReadResult read;
  pair.timed.expires_after(1h);
  startRead(pair.timed, read);
  pair.timed.expires_after(30ms);
  pair.io.run_for(2s);
  ASSERT_TRUE(read.error.has_value());
  EXPECT_TRUE(pair.timed.expired());
}

TEST(TimedSocket, NoDeadlineMeansNoExpiry) {
  Pair pair;
  ReadResult read;
  pair.timed.expires_after(30ms);
  pair.timed.expires_never();
  startRead(pair.timed, read);
  pair.io.run_for(150ms);
  EXPECT_FALSE(read.error.has_value()) << "the read must still be pending";
  EXPECT_FALSE(pair.timed.expired());
  asio::write(pair.peer, asio::buffer("x", 1));
  pair.io.run_for(1s);
  ASSERT_TRUE(read.error.has_value());
  EXPECT_FALSE(*read.error);
}

TEST(TimedSocket, AMovedSocketKeepsItsDeadline) {
  Pair pair;
  pair.timed.expires_after(40ms);
  std::vector<TimedSocket> held;
  held.push_back(std::move(pair.timed));
  held.reserve(16);  // moves it again
  ReadResult read;
  startRead(held.front(), read);
  pair.io.run_for(2s);
  ASSERT_TRUE(read.error.has_value());
  EXPECT_TRUE(held.front().expired());
}

TEST(TimedSocket, ClosingDisarmsSoAReusedDescriptorIsLeftAlone) {
  Pair first;
  first.timed.expires_after(30ms);
  int number = first.timed.native_handle();
  first.timed.close();
  // New sockets take the lowest free descriptors: open until one has the closed one's.
  std::vector<tcp::socket> opened;
  while (opened.size() < 8 && (opened.empty() || opened.back().native_handle() != number)) {
    opened.emplace_back(first.io);
    opened.back().open(tcp::v4());
  }
  tcp::socket& reused = opened.back();
  ASSERT_EQ(reused.native_handle(), number);
  tcp::acceptor acceptor(first.io, {asio::ip::address_v4::loopback(), 0});
  reused.connect(acceptor.local_endpoint());
  tcp::socket other(first.io);
  acceptor.accept(other);
  first.io.run_for(150ms);
  EXPECT_FALSE(first.timed.expired());
  // Whatever descriptor it got, it was not shut down: it still carries bytes both ways.
  asio::write(reused, asio::buffer("ok", 2));
  char got[2];
  asio::read(other, asio::buffer(got));
  EXPECT_EQ(std::string_view(got, 2), "ok");
}

}  // namespace
}  // namespace weft::proxy
