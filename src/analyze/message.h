#pragma once
// istioctl analyze's messages: Istio's codes, levels and texts, and its output formats.

#include <string>
#include <vector>

#include "model/object.h"

namespace weft::analyze {

enum class Level { kInfo = 0, kWarning = 1, kError = 2 };
const char* levelName(Level level);  // "Info", "Warning", "Error"
Result<Level> parseLevel(std::string_view name);

// One entry of Istio's message catalogue (pkg/config/analysis/msg/messages.yaml).
struct MessageType {
  const char* code;  // "IST0101"
  const char* name;  // "ReferencedResourceNotFound"
  Level level;
};

namespace msg {
// The codes Weft's analyzers emit; see messages.cc for the list with their levels.
extern const MessageType kReferencedResourceNotFound;               // IST0101
extern const MessageType kNamespaceNotInjected;                     // IST0102
extern const MessageType kSchemaValidationError;                    // IST0106
extern const MessageType kUnknownAnnotation;                        // IST0108
extern const MessageType kConflictingMeshGatewayVirtualServiceHosts;  // IST0109
extern const MessageType kVirtualServiceDestinationPortSelectorRequired;  // IST0112
extern const MessageType kPortNameIsNotUnderNamingConvention;       // IST0118
extern const MessageType kNamespaceMultipleInjectionLabels;         // IST0123
extern const MessageType kNoMatchingWorkloadsFound;                 // IST0127
extern const MessageType kNoServerCertificateVerificationDestinationLevel;  // IST0128
extern const MessageType kNoServerCertificateVerificationPortLevel;  // IST0129
extern const MessageType kVirtualServiceUnreachableRule;            // IST0130
extern const MessageType kVirtualServiceIneffectiveMatch;           // IST0131
extern const MessageType kVirtualServiceHostNotFoundInGateway;      // IST0132
extern const MessageType kServiceEntryAddressesRequired;            // IST0134
extern const MessageType kConflictingGateways;                      // IST0145
extern const MessageType kJwtClaimBasedRoutingWithoutRequestAuthN;  // IST0149
extern const MessageType kInvalidGatewayCredential;                 // IST0161
extern const MessageType kGatewayPortNotDefinedOnService;           // IST0162
extern const MessageType kIneffectivePolicy;                        // IST0167
extern const MessageType kDestinationRuleSubsetNotSelectPods;       // IST0173
extern const MessageType kUnknownDestinationRuleHost;               // IST0174
extern const MessageType kJwksUriFetchUnrestricted;                 // IST0175
extern const MessageType kConflictingServiceEntryProtocol;          // IST0177
// Weft's own codes (WFT0001...), for Weft's own kinds; documented in docs/analysis.md.
extern const MessageType kRateLimitTargetNotFound;                  // WFT0001
extern const MessageType kRateLimitTargetNotApplied;                // WFT0002
extern const MessageType kRateLimitRedisServiceNotFound;            // WFT0003
}  // namespace msg

struct Message {
  const MessageType* type;
  std::string origin;     // "VirtualService istio-system/traffic-rules" (Object::friendlyName)
  std::string ns;         // the origin's namespace, for -n filtering ("" when cluster-scoped)
  std::string location;   // "virtual-service.yaml:14" when the object came from a file
  std::string text;

  std::string format() const;  // Error [IST0101] (VirtualService istio-system/traffic-rules file:14) text
};

// Builds a message about `origin`, at the field `pointer` ("/spec/http/0/route/0/destination/host").
Message makeMessage(const MessageType& type, const model::Object& origin, std::string_view pointer, std::string text);

std::string documentationUrl(const MessageType& type);
// -o json / -o yaml: a list of {code, level, origin, reference, message, documentationUrl}.
std::string formatMessagesJson(const std::vector<Message>& messages);
std::string formatMessagesYaml(const std::vector<Message>& messages);

}  // namespace weft::analyze
