#include "localcluster/port_forward.h"

#include <boost/asio.hpp>

#include "localcluster/netns.h"
#include "net/byte_relay.h"

namespace weft::localcluster {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::awaitable<void> relay(tcp::socket client, int port) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket upstream(executor);
  boost::system::error_code ec;
  // The process is inside the pod's namespace now, so this is the pod's loopback.
  co_await upstream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<uint16_t>(port)),
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fmt::print(stderr, "error forwarding port {}: connect to the pod: {}\n", port, ec.message());
    co_return;
  }
  co_await net::relayBytes(client, upstream);
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
