#pragma once
// Copies bytes both ways between two TCP sockets until both directions have ended,
// passing half-close along (EOF on one side becomes shutdown(SHUT_WR) on the other), as
// plaintext passthrough and inbound plaintext need. Buffers are fixed-size: a side that
// stops reading stops the other side's reading too.

#include <cstdint>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace weft::ztunnel {

struct RelayCounts {
  uint64_t aToB = 0;
  uint64_t bToA = 0;
};

boost::asio::awaitable<RelayCounts> relayTcp(boost::asio::ip::tcp::socket& a, boost::asio::ip::tcp::socket& b);

}  // namespace weft::ztunnel
