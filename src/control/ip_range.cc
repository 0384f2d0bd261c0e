#include "control/ip_range.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace weft::control {

namespace {

// ::ffff:0:0/96: the IPv4 address in the last four bytes, or null.
const uint8_t* mappedIpv4(const in6_addr& address) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address.s6_addr, kPrefix, sizeof kPrefix) == 0 ? address.s6_addr + 12 : nullptr;
}

}  // namespace

Result<IpRange> IpRange::parse(std::string_view text) {
  IpRange range;
  auto slash = text.find('/');
  std::string address(text.substr(0, slash));
  int bits = 0;
  if (inet_pton(AF_INET, address.c_str(), range.bytes_.data()) == 1) {
    range.family_ = AF_INET;
    bits = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), range.bytes_.data()) == 1) {
    range.family_ = AF_INET6;
    bits = 128;
  } else {
    return makeError("{:?} is not an IP address or CIDR range", text);
  }
  range.prefix_ = bits;
  if (slash != std::string_view::npos) {
    auto length = text.substr(slash + 1);
    if (length.empty() || !std::isdigit(static_cast<unsigned char>(length.front()))) return makeError("{:?}: the prefix length must be 0 to {}", text, bits);
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), range.prefix_);
    if (ec != std::errc() || end != length.data() + length.size() || range.prefix_ < 0 || range.prefix_ > bits) {
      return makeError("{:?}: the prefix length must be 0 to {}", text, bits);
    }
  }
  // An IPv4 range written as IPv4-mapped IPv6 (::ffff:10.0.0.0/104) is that IPv4 range, as
  // Go's net.IPNet reads it.
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (range.family_ == AF_INET6 && range.prefix_ >= 96 && std::memcmp(range.bytes_.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(range.bytes_.data(), range.bytes_.data() + 12, 4);
    std::fill(range.bytes_.begin() + 4, range.bytes_.end(), 0);
    range.family_ = AF_INET;
    range.prefix_ -= 96;
    bits = 32;
  }
  for (int bit = range.prefix_; bit < bits; ++bit) range.bytes_[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  char printed[INET6_ADDRSTRLEN] = {};
  inet_ntop(range.family_, range.bytes_.data(), printed, sizeof printed);
  range.text_ = std::string(printed) + "/" + std::to_string(range.prefix_);
  return range;
}

bool IpRange::containsBytes(const uint8_t* bytes, int family) const {
  if (family != family_) return false;
  for (int bit = 0; bit < prefix_; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((bytes[bit / 8] & mask) != (bytes_[bit / 8] & mask)) return false;
  }
  return true;
}

bool IpRange::contains(const sockaddr* address) const {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return containsBytes(reinterpret_cast<const uint8_t*>(&in->sin_addr.s_addr), AF_INET);
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    // A mapped address is checked as both: its IPv4 address and the IPv6 one written.
    if (const uint8_t* v4 = mappedIpv4(in6->sin6_addr); v4 != nullptr && containsBytes(v4, AF_INET)) return true;
    return containsBytes(in6->sin6_addr.s6_addr, AF_INET6);
  }
  return false;
}

}  // namespace weft::control
