#include "localcluster/port_forward.h"

#include <boost/asio.hpp>

#include "localcluster/netns.h"

namespace weft::localcluster {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Copies one direction until EOF, then half-closes the other side so the peer sees the
// end of the stream while the opposite direction may still be flowing.
asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
  std::array<char, 16384> buffer;
  boost::system::error_code ec;
  while (true) {
    size_t n = co_await from->async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) break;
    co_await asio::async_write(*to, asio::buffer(buffer, n), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  to->shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> relay(tcp::socket client, int port) {
  auto executor = co_await asio::this_coro::executor;
  auto upstream = std::make_shared<tcp::socket>(executor);
  boost::system::error_code ec;
  // The process is inside the pod's namespace now, so this is the pod's loopback.
  co_await upstream->async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<uint16_t>(port)),
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fmt::print(stderr, "error forwarding port {}: connect to the pod: {}\n", port, ec.message());
    co_return;
  }
  auto downstream = std::make_shared<tcp::socket>(std::move(client));
  asio::co_spawn(executor, pump(downstream, upstream), asio::detached);
  co_await pump(upstream, downstream);
}

asio::awaitable<void> acceptLoop(tcp::acceptor& acceptor, int port, std::function<void()> onConnection) {
  while (true) {
    boost::system::error_code ec;
    tcp::socket client = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) continue;
    onConnection();
    asio::co_spawn(acceptor.get_executor(), relay(std::move(client), port), asio::detached);
  }
}

}  // namespace

Status runPortForward(const ForwardListen& listen, const ForwardTarget& target, const std::function<void(int)>& onListening,
                      const std::function<void()>& onConnection) {
  asio::io_context io;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(listen.address, ec);
  if (ec || !address.is_loopback()) return makeError("--address {}: port-forward listens on loopback addresses only", listen.address);
  tcp::acceptor acceptor(io);
  tcp::endpoint endpoint(address, static_cast<uint16_t>(listen.port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return makeError("unable to listen on {}:{}: {}", listen.address, listen.port, ec.message());
  // The listener stays in the host's namespace; sockets made from here on are the pod's.
  WEFT_TRY(enterNetns(target.netns));
  onListening(acceptor.local_endpoint().port());
  asio::co_spawn(io, acceptLoop(acceptor, target.port, onConnection), asio::detached);
  io.run();
  return {};
}

}  // namespace weft::localcluster
