#include <boost/json.hpp>

#include "analyze/message.h"
#include "model/yaml_writer.h"

namespace weft::analyze {

namespace msg {
const MessageType kReferencedResourceNotFound{"IST0101", "ReferencedResourceNotFound", Level::kError};
const MessageType kNamespaceNotInjected{"IST0102", "NamespaceNotInjected", Level::kInfo};
const MessageType kSchemaValidationError{"IST0106", "SchemaValidationError", Level::kError};
const MessageType kUnknownAnnotation{"IST0108", "UnknownAnnotation", Level::kWarning};
const MessageType kConflictingMeshGatewayVirtualServiceHosts{"IST0109", "ConflictingMeshGatewayVirtualServiceHosts", Level::kError};
const MessageType kVirtualServiceDestinationPortSelectorRequired{"IST0112", "VirtualServiceDestinationPortSelectorRequired", Level::kError};
const MessageType kPortNameIsNotUnderNamingConvention{"IST0118", "PortNameIsNotUnderNamingConvention", Level::kInfo};
const MessageType kNamespaceMultipleInjectionLabels{"IST0123", "NamespaceMultipleInjectionLabels", Level::kWarning};
const MessageType kNoMatchingWorkloadsFound{"IST0127", "NoMatchingWorkloadsFound", Level::kWarning};
const MessageType kNoServerCertificateVerificationDestinationLevel{"IST0128", "NoServerCertificateVerificationDestinationLevel", Level::kWarning};
const MessageType kNoServerCertificateVerificationPortLevel{"IST0129", "NoServerCertificateVerificationPortLevel", Level::kWarning};
const MessageType kVirtualServiceUnreachableRule{"IST0130", "VirtualServiceUnreachableRule", Level::kWarning};
const MessageType kVirtualServiceIneffectiveMatch{"IST0131", "VirtualServiceIneffectiveMatch", Level::kInfo};
const MessageType kVirtualServiceHostNotFoundInGateway{"IST0132", "VirtualServiceHostNotFoundInGateway", Level::kWarning};
const MessageType kServiceEntryAddressesRequired{"IST0134", "ServiceEntryAddressesRequired", Level::kWarning};
const MessageType kConflictingGateways{"IST0145", "ConflictingGateways", Level::kError};
const MessageType kJwtClaimBasedRoutingWithoutRequestAuthN{"IST0149", "JwtClaimBasedRoutingWithoutRequestAuthN", Level::kError};
const MessageType kInvalidGatewayCredential{"IST0161", "InvalidGatewayCredential", Level::kError};
const MessageType kGatewayPortNotDefinedOnService{"IST0162", "GatewayPortNotDefinedOnService", Level::kWarning};
const MessageType kIneffectivePolicy{"IST0167", "IneffectivePolicy", Level::kWarning};
const MessageType kDestinationRuleSubsetNotSelectPods{"IST0173", "DestinationRuleSubsetNotSelectPods", Level::kError};
const MessageType kUnknownDestinationRuleHost{"IST0174", "UnknownDestinationRuleHost", Level::kWarning};
const MessageType kJwksUriFetchUnrestricted{"IST0175", "JwksUriFetchUnrestricted", Level::kWarning};
const MessageType kConflictingServiceEntryProtocol{"IST0177", "ConflictingServiceEntryProtocol", Level::kWarning};
const MessageType kRateLimitTargetNotFound{"WFT0001", "RateLimitTargetNotFound", Level::kError};
const MessageType kRateLimitTargetNotApplied{"WFT0002", "RateLimitTargetNotApplied", Level::kInfo};
const MessageType kRateLimitRedisServiceNotFound{"WFT0003", "RateLimitRedisServiceNotFound", Level::kWarning};
}  // namespace msg

const char* levelName(Level level) {
  switch (level) {
    case Level::kInfo: return "Info";
    case Level::kWarning: return "Warning";
    case Level::kError: return "Error";
  }
  return "?";
}

Result<Level> parseLevel(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "info") return Level::kInfo;
  if (lower == "warning" || lower == "warn") return Level::kWarning;
  if (lower == "error") return Level::kError;
  return makeError("unknown level \"{}\": use Info, Warning or Error", name);
}

std::string Message::format() const {
  std::string where = location.empty() ? origin : origin + " " + location;
  return fmt::format("{} [{}] ({}) {}", levelName(type->level), type->code, where, text);
}

Message makeMessage(const MessageType& type, const model::Object& origin, std::string_view pointer, std::string text) {
  return Message{&type, origin.friendlyName(), origin.ns(), origin.sourceLocation(pointer), std::move(text)};
}

std::string documentationUrl(const MessageType& type) {
  std::string code = type.code;
  for (auto& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Weft's own codes are documented with Weft, not on istio.io.
  if (code.starts_with("wft")) return fmt::format("docs/analysis.md#{}", code);
  return fmt::format("https://istio.io/latest/docs/reference/config/analysis/{}/", code);
}

namespace {

boost::json::value toJson(const std::vector<Message>& messages) {
  boost::json::array out;
  for (const auto& m : messages) {
    out.push_back(boost::json::object{{"code", m.type->code},
                                      {"documentationUrl", documentationUrl(*m.type)},
                                      {"level", levelName(m.type->level)},
                                      {"message", m.text},
                                      {"origin", m.origin},
                                      {"reference", m.location}});
  }
  return out;
}

}  // namespace

std::string formatMessagesJson(const std::vector<Message>& messages) { return boost::json::serialize(toJson(messages)) + "\n"; }

std::string formatMessagesYaml(const std::vector<Message>& messages) { return model::toYaml(toJson(messages)); }

}  // namespace weft::analyze
