#pragma once
// The byte relay behind `weft port-forward` and the host's node ports: two connected TCP
// sockets, copied both ways through one bounded buffer per direction, each end's EOF
// passed on as a half-close so request/response protocols that shut down their sending
// side still get their answer.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace weft::localcluster {

// Completes when both directions have ended; the sockets close with it.
boost::asio::awaitable<void> relayStreams(boost::asio::ip::tcp::socket a, boost::asio::ip::tcp::socket b);

}  // namespace weft::localcluster
