#include "hbone/authority.h"

#include <charconv>

namespace weft::hbone {

Result<boost::asio::ip::tcp::endpoint> parseAuthority(std::string_view authority) {
  std::string_view host;
  std::string_view port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close + 1 >= authority.size() || authority[close + 1] != ':')
      return makeError("authority '{}': expected [IPv6]:port", authority);
    host = authority.substr(1, close - 1);
    port = authority.substr(close + 2);
  } else {
    const size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos) return makeError("authority '{}': missing port", authority);
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return makeError("authority '{}': an IPv6 address needs brackets", authority);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
    return makeError("authority '{}': port must be 1-65535", authority);
  boost::system::error_code addressError;
  auto address = boost::asio::ip::make_address(std::string(host), addressError);
  if (addressError) return makeError("authority '{}': '{}' is not an IP address", authority, host);
  if (address.is_v6() && address.to_v6().scope_id() != 0)
    return makeError("authority '{}': zone ids are not allowed", authority);
  return boost::asio::ip::tcp::endpoint(address, static_cast<unsigned short>(value));
}

std::string formatAuthority(const boost::asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

}  // namespace weft::hbone
