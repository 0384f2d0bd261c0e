#pragma once
// Building blocks for the kinds' schemas (src/model/schemas_*.cc) that belong to no one
// kind: small schema builders, tolerant readers for object checks, and the syntax of
// Istio's names, hosts, addresses, protocols, HTTP headers and StringMatch. Rules about one
// kind's own fields stay in that kind's file; the general builders (str, listOf, object,
// ...) are in schema.h, and shared schemas of whole sub-objects in kinds.h.

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/schema.h"

namespace weft::model {

// --- building blocks --------------------------------------------------------------------

// A check on a string's text: nullopt when fine, else why not.
using Rule = std::function<std::optional<std::string>(std::string_view)>;

// A Rule as a ValueCheck, for schemas already known to hold a string (keys, str checks).
ValueCheck stringRule(Rule rule);
// A string schema checked by `rule`.
SchemaPtr strRule(Rule rule);
// A copy of `base` with more checks; they run after the base's own.
SchemaPtr withChecks(const SchemaPtr& base, std::vector<ValueCheck> extra);
// A list or map of at most `max` items (the CRDs' maxItems, maxProperties).
SchemaPtr atMost(const SchemaPtr& collection, size_t max);
// A string schema of at most `max` characters (the CRDs' maxLength).
SchemaPtr maxLength(const SchemaPtr& base, size_t max);
// A JSON number (int64, uint64 or double) as a double.
double asDouble(const boost::json::value& v);
// A JSON integer (int64 or uint64) as an int64.
int64_t asInt(const boost::json::value& v);
// A number between `min` and `max`, inclusive.
SchemaPtr numberBetween(double min, double max);
// A port in a match condition: 1..65535, or 0 for "not set".
SchemaPtr portOrZero();
// A duration as istiod accepts it: at least 1ms, in whole milliseconds.
SchemaPtr istioDuration();
// A duration where 0 means "off"; otherwise at least 1ms.
SchemaPtr durationOrZero();
// Compiles `re` with RE2 (as Envoy runs it); nullopt when it compiles, else RE2's error.
std::optional<std::string> compileRegex(std::string_view re);

// --- reading values inside object checks -----------------------------------------------
// Object checks run even when a field had the wrong type (that error is already reported),
// so every reader tolerates anything: a wrong type reads as absent.

// The field `name` of `object`; null when absent, null-valued, or `object` is no object.
const boost::json::value* find(const boost::json::value& object, std::string_view name);
// The string field `name`; empty when absent or not a string.
std::string_view stringAt(const boost::json::value& object, std::string_view name);
// The list field `name`; null when absent or not a list.
const boost::json::array* arrayAt(const boost::json::value& object, std::string_view name);
// The object field `name`; null when absent or not an object.
const boost::json::object* objectAt(const boost::json::value& object, std::string_view name);
// The integer field `name`; nullopt when absent or not an integer.
std::optional<int64_t> intAt(const boost::json::value& object, std::string_view name);
// The boolean field `name`; false when absent or not a boolean.
bool boolAt(const boost::json::value& object, std::string_view name);
// Whether `name` is set to something other than an empty string, list or map.
bool present(const boost::json::value& object, std::string_view name);
// The site of item `index` of the list at `list`, for errors on one item.
Site itemSite(const Site& list, size_t index);
// The site of entry `key` of the map at `map`, for errors on one entry.
Site entrySite(const Site& map, std::string_view key);
// Whether `list` (may be null) holds the string `wanted`.
bool containsString(const boost::json::array* list, std::string_view wanted);
// ASCII case-insensitive equality (header and protocol names).
bool iequals(std::string_view a, std::string_view b);

// --- names and addresses -----------------------------------------------------------------

// An ASCII letter or digit.
bool isAlnum(char c);
// Istio's DNS label: like RFC 1123 but either case ("v1", "V1").
bool isIstioLabel(std::string_view s);
// An IPv4 or IPv6 address.
bool isIpAddress(std::string_view text);
// An IP address or a CIDR block ("10.0.0.0/8").
std::optional<std::string> checkIpOrCidr(std::string_view text);
// A string schema for checkIpOrCidr.
SchemaPtr ipOrCidr();
// A host that may start with a wildcard label: "reviews", "*.example.com", "*".
std::optional<std::string> checkWildcardDomain(std::string_view host);
// A host name without wildcards, with a top-level domain that is not all digits.
std::optional<std::string> checkFqdn(std::string_view host);
// Whether hosts `a` and `b` (either may be a wildcard) cover some name in common.
bool hostsOverlap(std::string_view a, std::string_view b);
// Whether every name host `a` covers is also covered by host `b`.
bool hostSubsetOf(std::string_view a, std::string_view b);
// An Istio label naming a `what` ("subset name"), with a message that says so.
SchemaPtr istioName(std::string what);
// A namespace name (an Istio label).
SchemaPtr namespaceName();
// A DestinationRule subset name, as subsets define it and destinations refer to it.
SchemaPtr subsetName();
// A Gateway reference in a VirtualService: "<namespace>/<name>", a bare name, or "mesh".
SchemaPtr gatewayName();
// exportTo: ".", "*", namespaces, and with `allowNone` "~"; no duplicates.
SchemaPtr exportTo(bool allowNone);
// Workload selector labels as Istio matches them: exact values, no wildcards.
SchemaPtr selectorLabels();

// --- protocols and unix sockets -----------------------------------------------------------

// Istio's port protocol names (Gateway servers, ServiceEntry ports).
enum class Protocol {
  kHttp,
  kHttps,
  kHttp2,
  kGrpc,
  kGrpcWeb,
  kHttpProxy,
  kTcp,
  kTls,
  kUdp,
  kMongo,
  kRedis,
  kMysql,
  kUnknown
};

// A protocol name in any case; kUnknown when Istio has no such protocol.
Protocol parseProtocol(std::string_view name);
// Protocols that carry HTTP (and so host names and routes).
bool isHttpProtocol(Protocol p);
// Protocols that carry TLS (and so an SNI host name).
bool isTlsProtocol(Protocol p);
// A protocol name Istio knows, with the list of known ones when not.
std::optional<std::string> checkProtocolName(std::string_view name);
// Whether an address is a "unix://" socket address.
bool isUnixAddress(std::string_view address);
// The path of a "unix://" address: absolute or @abstract, and a socket, not a directory.
std::optional<std::string> checkUnixPath(std::string_view address);

// --- HTTP header names and values ----------------------------------------------------------

// An HTTP token (RFC 9110): the syntax of header names.
bool isToken(std::string_view s);
// A header name that matches a JWT claim ("@request.auth.claims.groups").
bool isJwtClaimHeader(std::string_view name);
// A header name in match conditions: a token, a pseudo-header or a JWT claim.
std::optional<std::string> checkMatchHeaderName(std::string_view name);
// ":authority" or "host", in any case: the two spellings of the authority.
bool isAuthorityHeader(std::string_view name);
// A request header that may be set or added (no pseudo-headers but the authority).
std::optional<std::string> checkSettableRequestHeader(std::string_view name);
// A header that may be removed from requests, or changed on responses.
std::optional<std::string> checkModifiableHeader(std::string_view name);
// A header value as Envoy reads it: a format string where '%' starts a substitution.
std::optional<std::string> checkHeaderValue(std::string_view value);
// Istio's HeaderOperations (set, add, remove) for requests or responses.
SchemaPtr headerOperations(bool request);
// Istio's Headers: header operations on the request and the response.
SchemaPtr headers();

// --- StringMatch ----------------------------------------------------------------------------

// An RE2 regex as istiod accepts it; with `starMeansPresent`, "*" is allowed as well.
SchemaPtr istioRegex(bool starMeansPresent);

// Where a StringMatch is used, which decides what an empty or "*" value means.
enum class MatchUse {
  kUri,            // an empty prefix matches every path
  kOther,          // scheme, method, authority, headers, query parameters
  kWithoutHeader,  // regex "*" means "header present"
  kCorsOrigin,     // the one chosen value must be non-empty
};

// Istio's StringMatch: one of exact, prefix or regex.
SchemaPtr stringMatch(MatchUse use);
// A map of header name to StringMatch.
SchemaPtr matchHeaders(MatchUse use);

}  // namespace weft::model
