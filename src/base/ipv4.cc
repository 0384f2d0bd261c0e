#include "base/ipv4.h"

#include <arpa/inet.h>

#include <charconv>

namespace weft {

Result<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  std::string copy(text);
  in_addr raw{};
  if (inet_pton(AF_INET, copy.c_str(), &raw) != 1) return makeError("\"{}\" is not an IPv4 address", text);
  return Ipv4Address{ntohl(raw.s_addr)};
}

std::string Ipv4Address::str() const {
  return fmt::format("{}.{}.{}.{}", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
}

Result<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return makeError("\"{}\" is not a CIDR block (want ADDRESS/PREFIX, e.g. 198.18.0.0/16)", text);
  auto address = Ipv4Address::parse(text.substr(0, slash));
  if (!address) return address.error();
  int prefix = -1;
  auto digits = text.substr(slash + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  if (ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 || prefix > 32) {
    return makeError("\"{}\" has an invalid prefix length (0 to 32)", text);
  }
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  Ipv4Cidr cidr{Ipv4Address{address->value & mask}, prefix};
  if (cidr.base != *address) {
    return makeError("\"{}\" is not a network address; the block it lies in is {}", text, cidr.str());
  }
  return cidr;
}

std::string Ipv4Cidr::str() const { return fmt::format("{}/{}", base.str(), prefix); }

bool Ipv4Cidr::contains(Ipv4Address address) const {
  return address.value - base.value < size() && address.value >= base.value;
}

bool Ipv4Cidr::contains(const Ipv4Cidr& inner) const { return inner.prefix >= prefix && contains(inner.base); }

bool Ipv4Cidr::overlaps(const Ipv4Cidr& other) const { return contains(other.base) || other.contains(base); }

Ipv4Cidr Ipv4Cidr::subBlock(int subPrefix, uint64_t index) const {
  uint64_t length = uint64_t{1} << (32 - subPrefix);
  return Ipv4Cidr{Ipv4Address{base.value + static_cast<uint32_t>(index * length)}, subPrefix};
}

}  // namespace weft
