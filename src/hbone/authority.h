#pragma once
// The HBONE `:authority`: a socket address, "IP:port" or "[IPv6]:port". Host names are for
// double HBONE through east-west gateways, which Weft does not implement yet, so they are
// refused like any other malformed authority (the server answers 400).

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "base/result.h"

namespace weft::hbone {

Result<boost::asio::ip::tcp::endpoint> parseAuthority(std::string_view authority);
std::string formatAuthority(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace weft::hbone
