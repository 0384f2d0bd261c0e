#include "net/ipv4_endpoint.h"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace weft::net {

std::string Ipv4Endpoint::str() const { return fmt::format("{}:{}", address.str(), port); }

sockaddr_in toSockaddr(const Ipv4Endpoint& endpoint) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(endpoint.port);
  address.sin_addr.s_addr = htonl(endpoint.address.value);
  return address;
}

Ipv4Endpoint fromSockaddr(const sockaddr_in& address) {
  return {Ipv4Address{ntohl(address.sin_addr.s_addr)}, ntohs(address.sin_port)};
}

}  // namespace weft::net
