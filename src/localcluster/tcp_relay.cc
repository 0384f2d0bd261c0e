#include "localcluster/tcp_relay.h"

#include <boost/asio.hpp>

#include <array>
#include <memory>

namespace weft::localcluster {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr size_t kBufferSize = 16384;

// Copies one direction until EOF or an error, then half-closes the other side so its
// peer sees the end of the stream while the opposite direction may still be flowing.
asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
  std::array<char, kBufferSize> buffer;
  boost::system::error_code ec;
  while (true) {
    size_t n = co_await from->async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) break;
    co_await asio::async_write(*to, asio::buffer(buffer, n), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  to->shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

asio::awaitable<void> relayStreams(tcp::socket a, tcp::socket b) {
  auto first = std::make_shared<tcp::socket>(std::move(a));
  auto second = std::make_shared<tcp::socket>(std::move(b));
  // The detached half shares both sockets, so they outlive whichever half ends first.
  asio::co_spawn(first->get_executor(), pump(first, second), asio::detached);
  co_await pump(second, first);
}

}  // namespace weft::localcluster
