#include "xds/policy_match.h"

#include "tls/spiffe_id.h"

namespace weft::xds {

bool stringMatches(const weft::v1::Match& match, const std::string& value) {
  switch (match.kind()) {
    case weft::v1::Match::PRESENCE:
      return !value.empty();
    case weft::v1::Match::PREFIX:
      return value.starts_with(match.value());
    case weft::v1::Match::SUFFIX:
      return value.ends_with(match.value());
    default:
      return value == match.value();
  }
}

bool anyMatches(const google::protobuf::RepeatedPtrField<weft::v1::Match>& matches, const std::string& value) {
  for (const auto& m : matches) {
    if (stringMatches(m, value)) return true;
  }
  return false;
}

bool addressIn(const google::protobuf::RepeatedPtrField<std::string>& blocks, Ipv4Address address) {
  for (const auto& block : blocks) {
    if (block.find('/') == std::string::npos) {
      if (auto single = Ipv4Address::parse(block); single && *single == address) return true;
    } else if (auto cidr = Ipv4Cidr::parse(block); cidr && cidr->contains(address)) {
      return true;
    }
  }
  return false;
}

SourceFacts sourceFacts(const std::string& identity) {
  auto parsed = tls::SpiffeId::parse(identity);
  if (!parsed) return {};
  return {identity.substr(std::string_view("spiffe://").size()), parsed->ns};
}

}  // namespace weft::xds
