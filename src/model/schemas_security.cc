// security.istio.io: AuthorizationPolicy, PeerAuthentication, RequestAuthentication.
//
// As for the networking kinds, both the CRD's schema and CEL rules and istiod's webhook
// checks apply: a policy istiod would refuse (an unknown condition key, a CUSTOM action
// without a provider, an empty source) is refused here too, because a policy that silently
// does not load is a hole in the mesh.

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/k8s_names.h"
#include "model/kinds.h"
#include "model/schema_rules.h"

namespace weft::model {
namespace {

namespace json = boost::json;

// --- helpers ------------------------------------------------------------------------------

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// --- value syntax ---------------------------------------------------------------------------

// IP blocks in a policy: checkIpOrCidr's syntax, reported with one message for both forms.
std::optional<std::string> checkIpBlock(std::string_view text) {
  if (!checkIpOrCidr(text)) return std::nullopt;
  return fmt::format("\"{}\" is not a valid IP address or CIDR block", text);
}

std::optional<std::string> checkPortString(std::string_view text) {
  if (allDigits(text) && text.size() <= 5 && std::stoi(std::string(text)) <= 65535) return std::nullopt;
  return fmt::format("\"{}\" is not a valid port number", text);
}

// "<serviceAccount>" or "<namespace>/<serviceAccount>", exact: no wildcards.
std::optional<std::string> checkServiceAccount(std::string_view value) {
  if (value.empty()) return std::string("must not be empty");
  if (value.find('*') != std::string_view::npos) return fmt::format("\"{}\": wildcards are not allowed in service accounts", value);
  if (value.size() > 320) return fmt::format("\"{}\" is longer than 320 characters", value);
  auto slash = value.find('/');
  bool ok = slash == std::string_view::npos ||
            (slash > 0 && slash + 1 < value.size() && value.find('/', slash + 1) == std::string_view::npos);
  if (!ok) return fmt::format("\"{}\": use <serviceAccount> or <namespace>/<serviceAccount>", value);
  return std::nullopt;
}

// Matched values: exact, "prefix*", "*suffix" or "*" (present).
std::optional<std::string> checkWildcardValue(std::string_view value) {
  if (value.empty()) return std::string("must not be empty");
  auto stars = std::count(value.begin(), value.end(), '*');
  if (stars > 1) return fmt::format("\"{}\": at most one '*' is allowed", value);
  if (stars == 1 && value.front() != '*' && value.back() != '*') return fmt::format("\"{}\": '*' is allowed only at the start or the end", value);
  return std::nullopt;
}

std::optional<std::string> checkTrustDomain(std::string_view value) {
  if (auto why = checkWildcardValue(value)) return why;
  if (value.find('/') != std::string_view::npos) return fmt::format("\"{}\": a trust domain cannot contain '/'", value);
  return std::nullopt;
}

bool isPathLiteral(std::string_view segment) {
  return std::all_of(segment.begin(), segment.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("-._~%!$&'()+,;:@=").find(c) != std::string_view::npos;
  });
}

// Paths match exactly, by prefix ("/api/*"), by suffix ("*.png"), or as a template:
// "{*}" stands for one segment and "{**}" for any number of them (the last operator).
std::optional<std::string> checkPath(std::string_view path) {
  if (path.empty()) return std::string("must not be empty");
  bool isTemplate = path.find("{*}") != std::string_view::npos || path.find("{**}") != std::string_view::npos;
  std::string_view rest = path;
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  bool sawAnyMatch = false;
  size_t start = 0;
  for (;;) {
    size_t slash = rest.find('/', start);
    std::string_view segment = rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment == "{*}" || segment == "{**}") {
      if (sawAnyMatch) return fmt::format("\"{}\": no {{*}} or {{**}} may follow {{**}}", path);
      sawAnyMatch = segment == "{**}";
    } else if (segment.find_first_of("{}") != std::string_view::npos) {
      return fmt::format("\"{}\": '{{' and '}}' are allowed only as {{*}} or {{**}} segments", path);
    } else if (isTemplate && !isPathLiteral(segment)) {
      return fmt::format("\"{}\": segment \"{}\" is not a valid literal in a path template", path, segment);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::nullopt;
}

std::optional<std::string> checkNonEmpty(std::string_view value) {
  if (value.empty()) return std::string("must not be empty");
  return std::nullopt;
}

// --- selectors and target references -------------------------------------------------------

SchemaPtr workloadSelector() {
  static const SchemaPtr schema = object().field("matchLabels", selectorLabels());
  return schema;
}

std::optional<std::string> checkKindName(std::string_view kind) {
  bool ok = !kind.empty() && kind.size() <= 63 && std::isalpha(static_cast<unsigned char>(kind.front())) != 0 &&
            std::isalnum(static_cast<unsigned char>(kind.back())) != 0 &&
            std::all_of(kind.begin(), kind.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; });
  if (!ok) return fmt::format("\"{}\" is not a valid kind", kind);
  return std::nullopt;
}

// Policies attach to a Gateway (or all Gateways of a GatewayClass), a Service or a
// ServiceEntry in their own namespace.
SchemaPtr targetRef() {
  static const SchemaPtr schema =
      object()
          .field("group", strRule([](std::string_view group) -> std::optional<std::string> {
                   if (group.empty()) return std::nullopt;  // the core group
                   if (auto why = checkDns1123Subdomain(group)) return fmt::format("invalid API group: {}", *why);
                   return std::nullopt;
                 }))
          .required("kind", strRule(checkKindName))
          .required("name", strRule([](std::string_view name) -> std::optional<std::string> {
                      if (name.empty()) return std::string("must not be empty");
                      if (name.size() > 253) return std::string("must be at most 253 characters");
                      return std::nullopt;
                    }))
          .field("namespace", strRule([](std::string_view ns) -> std::optional<std::string> {
                   if (!ns.empty()) return std::string("cross-namespace references are not supported; leave namespace empty");
                   return std::nullopt;
                 }))
          .check([](const Site& s) {
            std::string_view group = stringAt(s.value, "group");
            std::string_view kind = stringAt(s.value, "kind");
            if (kind.empty()) return;
            bool supported = ((group.empty() || group == "core") && kind == "Service") ||
                             (group == "networking.istio.io" && kind == "ServiceEntry") ||
                             (group == "gateway.networking.k8s.io" && (kind == "Gateway" || kind == "GatewayClass"));
            if (!supported) {
              s.error(fmt::format("unsupported target {}{}{}: use a Service, a networking.istio.io ServiceEntry, or a "
                                  "gateway.networking.k8s.io Gateway or GatewayClass",
                                  group, group.empty() ? "" : "/", kind));
            }
          });
  return schema;
}

// --- AuthorizationPolicy ---------------------------------------------------------------------

SchemaPtr values(Rule rule = checkNonEmpty) { return listOf(strRule(std::move(rule))); }

SchemaPtr source() {
  static const std::vector<std::string> kFields = {
      "principals",     "notPrincipals",     "requestPrincipals", "notRequestPrincipals", "namespaces",
      "notNamespaces",  "ipBlocks",          "notIpBlocks",       "remoteIpBlocks",       "notRemoteIpBlocks",
      "serviceAccounts", "notServiceAccounts", "trustDomains",    "notTrustDomains",
  };
  static const SchemaPtr schema =
      object()
          .field("principals", values())
          .field("notPrincipals", values())
          .field("requestPrincipals", values())
          .field("notRequestPrincipals", values())
          .field("namespaces", values())
          .field("notNamespaces", values())
          .field("ipBlocks", values(checkIpBlock))
          .field("notIpBlocks", values(checkIpBlock))
          .field("remoteIpBlocks", values(checkIpBlock))
          .field("notRemoteIpBlocks", values(checkIpBlock))
          .field("serviceAccounts", atMost(values(checkServiceAccount), 16))
          .field("notServiceAccounts", atMost(values(checkServiceAccount), 16))
          .field("trustDomains", values(checkTrustDomain))
          .field("notTrustDomains", values(checkTrustDomain))
          .check([](const Site& s) {
            if (std::none_of(kFields.begin(), kFields.end(), [&](const std::string& f) { return present(s.value, f); })) {
              s.error("must set at least one field");
            }
            // A service account already names its namespace and principal.
            bool accounts = present(s.value, "serviceAccounts") || present(s.value, "notServiceAccounts");
            bool identities = present(s.value, "principals") || present(s.value, "notPrincipals") || present(s.value, "namespaces") ||
                              present(s.value, "notNamespaces");
            if (accounts && identities) s.error("serviceAccounts cannot be combined with principals or namespaces");
          });
  return schema;
}

SchemaPtr operation() {
  static const std::vector<std::string> kFields = {"hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"};
  static const SchemaPtr schema = object()
                                      .field("hosts", values())
                                      .field("notHosts", values())
                                      .field("ports", values(checkPortString))
                                      .field("notPorts", values(checkPortString))
                                      .field("methods", values())
                                      .field("notMethods", values())
                                      .field("paths", values(checkPath))
                                      .field("notPaths", values(checkPath))
                                      .check([](const Site& s) {
                                        if (std::none_of(kFields.begin(), kFields.end(), [&](const std::string& f) { return present(s.value, f); })) {
                                          s.error("must set at least one field");
                                        }
                                      });
  return schema;
}

// "request.headers[x-user]": a key with a non-empty name in brackets.
bool isBracketKey(std::string_view key) {
  auto open = key.find('[');
  return open != std::string_view::npos && open > 0 && key.back() == ']' && open + 2 < key.size();
}

// Condition keys istiod understands (pilot/pkg/security/authz/model).
std::optional<std::string> checkConditionKey(std::string_view key) {
  static const std::set<std::string_view> kPlain = {
      "source.ip",          "remote.ip",          "source.namespace",       "source.serviceAccount", "source.principal",
      "source.trustDomain", "request.auth.principal", "request.auth.audiences", "request.auth.presenter", "destination.ip",
      "destination.port",   "connection.sni",
  };
  if (key.empty()) return std::string("must not be empty");
  if (kPlain.count(key) != 0) return std::nullopt;
  for (std::string_view prefix : {"request.headers", "request.auth.claims", "experimental.envoy.filters."}) {
    if (!startsWith(key, prefix)) continue;
    if (isBracketKey(key)) return std::nullopt;
    return fmt::format("\"{}\" must have the form {}[<name>]", key, prefix == "experimental.envoy.filters." ? "experimental.envoy.filters.<filter>" : prefix);
  }
  if (key == "destination.namespace") return fmt::format("\"{}\" is not supported: a policy applies in its own namespace", key);
  if (startsWith(key, "destination.labels")) return fmt::format("\"{}\" is not supported: use the policy's selector", key);
  if (key == "destination.name" || key == "destination.user") return fmt::format("\"{}\" is no longer supported", key);
  return fmt::format("unknown condition key \"{}\"", key);
}

// The values of some keys have a syntax of their own.
Rule conditionValueRule(std::string_view key) {
  if (key == "source.ip" || key == "remote.ip" || key == "destination.ip") return checkIpBlock;
  if (key == "destination.port") return checkPortString;
  if (key == "source.serviceAccount") return checkServiceAccount;
  if (key == "source.trustDomain") return checkWildcardValue;
  return checkNonEmpty;
}

SchemaPtr condition() {
  static const SchemaPtr schema =
      object()
          .required("key", strRule(checkConditionKey))
          .field("values", values())
          .field("notValues", values())
          .check([](const Site& s) {
            if (!present(s.value, "values") && !present(s.value, "notValues")) {
              s.error("one of values or notValues must be set");
              return;
            }
            std::string_view key = stringAt(s.value, "key");
            Rule rule = conditionValueRule(key);
            for (const char* field : {"values", "notValues"}) {
              const auto* list = arrayAt(s.value, field);
              for (size_t i = 0; list != nullptr && i < list->size(); ++i) {
                const auto& v = (*list)[i];
                if (!v.is_string() || v.get_string().empty()) continue;  // reported by the list's own schema
                if (auto why = rule(std::string_view(v.get_string()))) itemSite(s.child(field), i).error(*why);
              }
            }
          });
  return schema;
}

SchemaPtr rule() {
  static const SchemaPtr schema = object()
                                      .field("from", atMost(listOf(object().required("source", source()), 1), 512))
                                      .field("to", listOf(object().required("operation", operation()), 1))
                                      .field("when", listOf(condition()));
  return schema;
}

// CUSTOM hands the decision to an external authorizer (MeshConfig extensionProviders),
// which sees only what the proxy can tell it: no mTLS peer identity, no JWT claims.
void checkCustomAction(const Site& s) {
  const auto* rules = arrayAt(s.value, "rules");
  if (rules == nullptr) {
    s.fieldError("rules", "must be set when action is CUSTOM ([{}] matches every request)");
    return;
  }
  const auto* provider = find(s.value, "provider");
  if (provider == nullptr) s.fieldError("provider", "is required when action is CUSTOM");
  static const char* kIdentityFields[] = {"principals",     "notPrincipals",     "requestPrincipals", "notRequestPrincipals",
                                          "namespaces",     "notNamespaces",     "serviceAccounts",   "notServiceAccounts",
                                          "trustDomains",   "notTrustDomains"};
  for (size_t i = 0; i < rules->size(); ++i) {
    Site ruleSite = itemSite(s.child("rules"), i);
    const auto* from = arrayAt(ruleSite.value, "from");
    for (size_t j = 0; from != nullptr && j < from->size(); ++j) {
      Site sourceSite = itemSite(ruleSite.child("from"), j).child("source");
      for (const char* f : kIdentityFields) {
        if (present(sourceSite.value, f)) sourceSite.fieldError(f, "is not supported with action CUSTOM");
      }
    }
    const auto* when = arrayAt(ruleSite.value, "when");
    for (size_t j = 0; when != nullptr && j < when->size(); ++j) {
      std::string_view key = stringAt((*when)[j], "key");
      if (key == "source.namespace" || key == "source.serviceAccount" || key == "source.trustDomain" || key == "source.principal" ||
          startsWith(key, "request.auth.")) {
        itemSite(ruleSite.child("when"), j).fieldError("key", fmt::format("\"{}\" is not supported with action CUSTOM", key));
      }
    }
  }
}

void checkAuthorizationPolicy(const Site& s) {
  std::string_view action = stringAt(s.value, "action");
  if (action == "CUSTOM") {
    checkCustomAction(s);
  } else if (find(s.value, "provider") != nullptr) {
    s.fieldError("provider", "is allowed only with action CUSTOM");
  }
  // Without rules a policy never matches: harmless for ALLOW ("allow nothing"), a no-op
  // for DENY that is almost always a mistake.
  if (action == "DENY" && find(s.value, "rules") == nullptr) {
    s.fieldError("rules", "must be set when action is DENY ([{}] matches every request)");
  }
}

SchemaPtr authorizationPolicySpec() {
  static const SchemaPtr schema = object()
                                      .field("selector", workloadSelector())
                                      .field("targetRef", targetRef())
                                      .field("targetRefs", atMost(listOf(targetRef()), 16))
                                      .field("action", enumOf({"ALLOW", "DENY", "AUDIT", "CUSTOM"}))
                                      .field("provider", object().required("name", nonEmptyStr()))
                                      .field("rules", atMost(listOf(rule()), 512))
                                      .oneOf({"selector", "targetRef", "targetRefs"})
                                      .check(checkAuthorizationPolicy);
  return schema;
}

// --- PeerAuthentication -------------------------------------------------------------------------

SchemaPtr mtls() {
  static const SchemaPtr schema = object().field("mode", enumOf({"UNSET", "DISABLE", "PERMISSIVE", "STRICT"}));
  return schema;
}

SchemaPtr peerAuthenticationSpec() {
  // Keys are workload port numbers, as strings (YAML map keys).
  static const SchemaPtr portLevel = [] {
    auto map = std::make_shared<Schema>(*mapOf(mtls(), stringRule([](std::string_view key) -> std::optional<std::string> {
      if (allDigits(key) && key.size() <= 5) {
        int port = std::stoi(std::string(key));
        if (port >= 1 && port <= 65535) return std::nullopt;
      }
      return fmt::format("port \"{}\" must be a number between 1 and 65535", key);
    })));
    map->minItems = 1;
    return SchemaPtr(map);
  }();
  static const SchemaPtr schema = object()
                                      .field("selector", workloadSelector())
                                      .field("mtls", mtls())
                                      .field("portLevelMtls", portLevel)
                                      .check([](const Site& s) {
                                        // Port-level settings name a workload's ports, so they
                                        // need a selector that picks workloads.
                                        const auto* selector = find(s.value, "selector");
                                        if (find(s.value, "portLevelMtls") != nullptr &&
                                            (selector == nullptr || !present(*selector, "matchLabels"))) {
                                          s.fieldError("portLevelMtls", "requires a selector with matchLabels");
                                        }
                                      });
  return schema;
}

// --- RequestAuthentication -----------------------------------------------------------------------

std::optional<std::string> checkJwksUri(std::string_view uri) {
  std::string_view rest = startsWith(uri, "https://") ? uri.substr(8) : startsWith(uri, "http://") ? uri.substr(7) : std::string_view();
  if (rest.empty() || rest.front() == '/') return fmt::format("\"{}\" must be an http:// or https:// URL", uri);
  if (uri.size() > 2048) return std::string("must be at most 2048 characters");
  return std::nullopt;
}

SchemaPtr jwtRule() {
  static const SchemaPtr schema =
      object()
          .field("issuer", nonEmptyStr())
          .field("audiences", values())
          .field("jwksUri", strRule(checkJwksUri))
          .field("jwks_uri", strRule(checkJwksUri))  // the CRD also accepts the proto field name
          .field("jwks", strRule([](std::string_view jwks) -> std::optional<std::string> {
                   boost::system::error_code ec;
                   json::value parsed = json::parse(jwks, ec);
                   if (ec || !parsed.is_object()) return std::string("must be a JSON Web Key Set in JSON form");
                   return std::nullopt;
                 }))
          .field("fromHeaders", listOf(object().required("name", nonEmptyStr()).field("prefix", str())))
          .field("fromParams", values())
          .field("fromCookies", values())
          .field("outputPayloadToHeader", str())
          .field("forwardOriginalToken", boolean())
          .field("outputClaimToHeaders",
                 listOf(object()
                            .required("header", strRule([](std::string_view header) -> std::optional<std::string> {
                                        bool ok = !header.empty() && std::all_of(header.begin(), header.end(), [](char c) {
                                          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
                                        });
                                        if (!ok) return fmt::format("\"{}\" is not a valid header name: use letters, digits, '-' and '_'", header);
                                        return std::nullopt;
                                      }))
                            .required("claim", nonEmptyStr())))
          .field("timeout", duration())
          .field("spaceDelimitedClaims", atMost(values(), 64))
          .oneOf({"jwksUri", "jwks_uri", "jwks"})
          .check([](const Site& s) {
            if (!present(s.value, "issuer") && !present(s.value, "jwksUri") && !present(s.value, "jwks_uri")) {
              s.fieldError("issuer", "is required unless jwksUri is set");
            }
          });
  return schema;
}

SchemaPtr requestAuthenticationSpec() {
  static const SchemaPtr schema = object()
                                      .field("selector", workloadSelector())
                                      .field("targetRef", targetRef())
                                      .field("targetRefs", atMost(listOf(targetRef()), 16))
                                      .field("jwtRules", atMost(listOf(jwtRule()), 4096))
                                      .oneOf({"selector", "targetRef", "targetRefs"});
  return schema;
}

KindInfo securityKind(std::string kind, std::string plural, std::string shortName, SchemaPtr spec) {
  // Both versions serve one schema; v1 is stored (since Istio 1.28).
  return KindInfo{
      .group = "security.istio.io",
      .kind = std::move(kind),
      .versions = {"v1", "v1beta1"},
      .storageVersion = "v1",
      .plural = std::move(plural),
      .shortNames = {std::move(shortName)},
      .namespaced = true,
      .body = object().field("spec", std::move(spec)).field("status", preservedStatus()),
  };
}

}  // namespace

void addSecurityKinds(std::vector<KindInfo>& kinds) {
  kinds.push_back(securityKind("AuthorizationPolicy", "authorizationpolicies", "ap", authorizationPolicySpec()));
  kinds.push_back(securityKind("PeerAuthentication", "peerauthentications", "pa", peerAuthenticationSpec()));
  kinds.push_back(securityKind("RequestAuthentication", "requestauthentications", "ra", requestAuthenticationSpec()));
}

}  // namespace weft::model
