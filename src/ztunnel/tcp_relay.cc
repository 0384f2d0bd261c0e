#include "ztunnel/tcp_relay.h"

#include <array>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace weft::ztunnel {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// 16 KiB: ztunnel's middle copy-buffer size; enough for line rate on loopback without
// holding much per idle connection.
constexpr size_t kBufferSize = 16 * 1024;

asio::awaitable<void> copy(tcp::socket& from, tcp::socket& to, uint64_t& count) {
  std::array<char, kBufferSize> buffer;
  boost::system::error_code ec;
  while (true) {
    size_t n = co_await from.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(to, asio::buffer(buffer.data(), n), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // The receiver is gone: stop reading from the sender too, so it sees a reset
      // rather than a silently discarding peer.
      from.shutdown(tcp::socket::shutdown_receive, ec);
      co_return;
    }
    count += n;
  }
  // EOF (or error) from the sender: tell the receiver no more is coming.
  to.shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

asio::awaitable<RelayCounts> relayTcp(tcp::socket& a, tcp::socket& b) {
  using namespace asio::experimental::awaitable_operators;
  RelayCounts counts;
  co_await (copy(a, b, counts.aToB) && copy(b, a, counts.bToA));
  co_return counts;
}

}  // namespace weft::ztunnel
