#pragma once
// Copies bytes both ways between a TCP socket and an HBONE stream until both directions end,
// for either side of a tunnel (client: app socket <-> stream; server: stream <-> upstream).
// Half-close travels: EOF on the socket becomes END_STREAM, END_STREAM becomes
// shutdown(SHUT_WR) on the socket. Errors travel too: a socket error resets the stream
// (CONNECT_ERROR, RFC 9113 §8.5) and a stream reset closes the socket.

#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "hbone/hbone_stream.h"

namespace weft::hbone {

enum class FirstClose {
  kNeither,  // both directions failed or were cut before a half-close
  kSocket,   // the socket side sent EOF first
  kStream,   // the HBONE peer sent END_STREAM first
};
std::string_view describe(FirstClose first);

struct RelayResult {
  uint64_t socketToStream = 0;  // bytes read from the socket and written into the stream
  uint64_t streamToSocket = 0;  // bytes read from the stream and written to the socket
  FirstClose firstClose = FirstClose::kNeither;
  std::string error;  // the first failure; empty when both directions ended cleanly
  bool ok() const { return error.empty(); }
};

// `socket` and `stream` are borrowed: the caller keeps both alive until this returns.
boost::asio::awaitable<RelayResult> relay(boost::asio::ip::tcp::socket& socket, HboneStream& stream);
// The same over one end of a socket pair: how a server hands a tunnel's bytes to an
// in-process byte-stream server (the waypoint's HTTP/1.1 sessions).
boost::asio::awaitable<RelayResult> relay(boost::asio::local::stream_protocol::socket& socket, HboneStream& stream);

}  // namespace weft::hbone
