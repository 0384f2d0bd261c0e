#include "hbone/relay.h"

#include <nghttp2/nghttp2.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace weft::hbone {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

constexpr size_t kChunk = 64u << 10;

void noteFailure(RelayResult& result, std::string error) {
  if (result.error.empty()) result.error = std::move(error);
}

void noteFirstClose(RelayResult& result, FirstClose who) {
  if (result.firstClose == FirstClose::kNeither) result.firstClose = who;
}

template <class Socket>
asio::awaitable<void> socketToStream(Socket& socket, HboneStream& stream, RelayResult& result) {
  while (true) {
    std::string buffer(kChunk, '\0');
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::eof) {
      noteFirstClose(result, FirstClose::kSocket);
      if (auto ended = stream.closeWrite(); !ended) noteFailure(result, ended.error().message);
      co_return;
    }
    if (ec) {
      // Aborted means the other direction closed the socket and already said why.
      if (ec != asio::error::operation_aborted) noteFailure(result, "socket read: " + ec.message());
      stream.reset(NGHTTP2_CONNECT_ERROR);
      co_return;
    }
    buffer.resize(n);
    if (auto written = co_await stream.write(std::move(buffer)); !written) {
      noteFailure(result, written.error().message);
      boost::system::error_code ignored;
      socket.close(ignored);
      co_return;
    }
    result.socketToStream += n;
  }
}

template <class Socket>
asio::awaitable<void> streamToSocket(Socket& socket, HboneStream& stream, RelayResult& result) {
  while (true) {
    auto chunk = co_await stream.read(kChunk);
    boost::system::error_code ignored;
    if (!chunk) {
      noteFailure(result, chunk.error().message);
      socket.close(ignored);  // wakes the other direction's read
      co_return;
    }
    if (chunk->empty()) {
      noteFirstClose(result, FirstClose::kStream);
      socket.shutdown(asio::socket_base::shutdown_send, ignored);
      co_return;
    }
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(*chunk), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      noteFailure(result, "socket write: " + ec.message());
      stream.reset(NGHTTP2_CONNECT_ERROR);
      socket.close(ignored);
      co_return;
    }
    result.streamToSocket += n;
  }
}

}  // namespace

std::string_view describe(FirstClose first) {
  switch (first) {
    case FirstClose::kNeither: return "neither";
    case FirstClose::kSocket: return "socket";
    case FirstClose::kStream: return "stream";
  }
  return "unknown";
}

template <class Socket>
asio::awaitable<RelayResult> relayBothWays(Socket& socket, HboneStream& stream) {
  RelayResult result;
  co_await (socketToStream(socket, stream, result) && streamToSocket(socket, stream, result));
  co_return result;
}

asio::awaitable<RelayResult> relay(asio::ip::tcp::socket& socket, HboneStream& stream) { return relayBothWays(socket, stream); }

asio::awaitable<RelayResult> relay(asio::local::stream_protocol::socket& socket, HboneStream& stream) {
  return relayBothWays(socket, stream);
}

}  // namespace weft::hbone
