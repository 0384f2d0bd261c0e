// weft-tcp-echo: the TCP echo server of Istio's tcp-echo sample (image istio/tcp-echo-server),
// for the local cluster's TCP routes:
//
//   weft-tcp-echo PORTS PREFIX
//     Listens on each of the comma-separated PORTS; every line a client sends comes back
//     as "PREFIX line", as the sample's server answers `echo hello | nc host 9000` with
//     "one hello" (its args ["9000", "one"]). A last line without a newline is answered
//     when the client half-closes.
#include <boost/asio.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// A line longer than this is answered in pieces, so a client cannot make the server hold more.
constexpr size_t kMaxLine = 64 * 1024;

asio::awaitable<void> echo(tcp::socket socket, std::string prefix) {
  std::string pending;
  while (true) {
    auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(pending, kMaxLine), '\n', kUseTuple);
    // not_found: kMaxLine bytes without a newline, answered as a piece; any other error
    // (the client's end) makes what is left the last piece.
    bool full = ec == asio::error::not_found;
    bool last = ec.failed() && !full;
    if (full) n = pending.size();
    size_t take = last ? pending.size() : n;
    if (take == 0 && last) co_return;
    std::string answer = prefix + " " + pending.substr(0, take);
    pending.erase(0, take);
    auto [writeError, written] = co_await asio::async_write(socket, asio::buffer(answer), kUseTuple);
    if (writeError || last) co_return;
  }
}

asio::awaitable<void> serve(tcp::acceptor acceptor, std::string prefix) {
  while (true) {
    auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), echo(std::move(socket), prefix), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: weft-tcp-echo PORTS PREFIX (PORTS comma-separated, as istio/tcp-echo-server takes them)\n");
    return 2;
  }
  asio::io_context io;
  std::string ports = argv[1];
  for (size_t start = 0; start <= ports.size();) {
    size_t comma = ports.find(',', start);
    std::string port = ports.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? ports.size() + 1 : comma + 1;
    int number = std::atoi(port.c_str());
    if (number <= 0 || number > 65535) {
      std::fprintf(stderr, "weft-tcp-echo: %s is not a port\n", port.c_str());
      return 2;
    }
    tcp::acceptor acceptor(io);
    boost::system::error_code ec;
    acceptor.open(tcp::v4(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind({tcp::v4(), static_cast<unsigned short>(number)}, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      std::fprintf(stderr, "weft-tcp-echo: listen on %d: %s\n", number, ec.message().c_str());
      return 1;
    }
    std::printf("listening on %d, prefix: %s\n", number, argv[2]);
    asio::co_spawn(io, serve(std::move(acceptor), argv[2]), asio::detached);
  }
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  io.run();
  return 0;
}
