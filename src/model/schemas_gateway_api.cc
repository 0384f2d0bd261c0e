// gateway.networking.k8s.io: GatewayClass, Gateway, HTTPRoute, GRPCRoute, TLSRoute, TCPRoute,
// ReferenceGrant.
//
// Field shapes, patterns, limits and CEL rules follow the Gateway API v1.6.0 CRDs (the
// bundle Istio vendors): the standard channel, plus the experimental fields Istio reads
// (HTTPRoute retry and sessionPersistence, ExternalAuth, useDefaultGateways, defaultScope).
// One deliberate narrowing: listener protocols are limited to the ones Istio serves, since
// a listener with another protocol would be accepted by the API server and then never work.

#include <re2/re2.h>

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "base/duration.h"
#include "base/k8s_names.h"
#include "model/kinds.h"
#include "model/schema_rules.h"

namespace weft::model {
namespace {

namespace json = boost::json;

// --- helpers ------------------------------------------------------------------------------

// A string of `min`..`max` characters.
SchemaPtr strLength(size_t min, size_t max) {
  return strRule([min, max](std::string_view s) -> std::optional<std::string> {
    if (s.size() < min) return min == 1 ? std::string("must not be empty") : fmt::format("must be at least {} characters", min);
    if (s.size() > max) return fmt::format("must be at most {} characters", max);
    return std::nullopt;
  });
}

// A string field with its CRD default applied.
std::string_view stringOr(const json::value& object, std::string_view name, std::string_view fallback) {
  const auto* v = find(object, name);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : fallback;
}

bool fullMatch(std::string_view text, const RE2& re) { return RE2::FullMatch(text, re); }

// --- Gateway API common types -----------------------------------------------------------

SchemaPtr groupName() {
  static const SchemaPtr schema = strRule([](std::string_view group) -> std::optional<std::string> {
    if (group.empty()) return std::nullopt;  // the core group
    if (auto why = checkDns1123Subdomain(group)) return fmt::format("invalid API group: {}", *why);
    return std::nullopt;
  });
  return schema;
}

SchemaPtr kindName() {
  static const RE2 kPattern("[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?");
  static const SchemaPtr schema = strRule([](std::string_view kind) -> std::optional<std::string> {
    if (kind.size() <= 63 && fullMatch(kind, kPattern)) return std::nullopt;
    return fmt::format("\"{}\" is not a valid kind: a letter, then letters, digits or '-', at most 63 characters", kind);
  });
  return schema;
}

SchemaPtr objectName() {
  static const SchemaPtr schema = strLength(1, 253);
  return schema;
}

SchemaPtr sectionName() {
  static const SchemaPtr schema = dns1123Subdomain();
  return schema;
}

// Listener and route hostnames: a DNS name in lower case, optionally starting with "*.".
std::optional<std::string> checkHostname(std::string_view host) {
  std::string_view name = host.substr(0, 2) == "*." ? host.substr(2) : host;
  if (host.size() <= 253 && !name.empty() && !checkDns1123Subdomain(name)) return std::nullopt;
  return fmt::format("\"{}\" is not a valid hostname: lower case DNS labels separated by '.', optionally after a leading \"*.\"", host);
}

SchemaPtr hostname() {
  static const SchemaPtr schema = strRule(checkHostname);
  return schema;
}

SchemaPtr preciseHostname() {
  static const SchemaPtr schema = strRule([](std::string_view host) -> std::optional<std::string> {
    if (!checkDns1123Subdomain(host)) return std::nullopt;
    return fmt::format("\"{}\" is not a valid hostname: lower case DNS labels separated by '.'", host);
  });
  return schema;
}

bool isHeaderName(std::string_view name) { return name.size() <= 256 && isToken(name); }

SchemaPtr headerName() {
  static const SchemaPtr schema = strRule([](std::string_view name) -> std::optional<std::string> {
    if (isHeaderName(name)) return std::nullopt;
    return fmt::format("\"{}\" is not a valid HTTP header name", name);
  });
  return schema;
}

// GEP-2257 durations: one to four groups of up to five digits and a unit (h, m, s, ms).
SchemaPtr gatewayDuration() {
  static const RE2 kPattern("([0-9]{1,5}(h|m|s|ms)){1,4}");
  static const SchemaPtr schema = strRule([](std::string_view text) -> std::optional<std::string> {
    if (fullMatch(text, kPattern)) return std::nullopt;
    return fmt::format("\"{}\" is not a valid duration: use up to four groups of at most 5 digits with h, m, s or ms, such as \"1h30m\" or \"500ms\"", text);
  });
  return schema;
}

// A list whose items are keyed by `key` (x-kubernetes-list-type: map).
SchemaPtr keyedList(SchemaPtr item, std::string key, size_t max) {
  return withChecks(atMost(listOf(std::move(item)), max), {[key](const json::value& v) -> std::optional<std::string> {
    std::set<std::string_view> seen;
    for (const auto& item : v.get_array()) {
      std::string_view name = stringAt(item, key);
      if (!name.empty() && !seen.insert(name).second) return fmt::format("duplicate {} \"{}\"", key, name);
    }
    return std::nullopt;
  }});
}

// A list of distinct scalars (x-kubernetes-list-type: set).
SchemaPtr setOf(SchemaPtr item, size_t max) { return atMost(listOf(std::move(item), 0, /*unique=*/true), max); }

SchemaPtr parentRef() {
  static const SchemaPtr schema = object()
                                      .field("group", groupName())
                                      .field("kind", kindName())
                                      .field("namespace", dns1123Label())
                                      .required("name", objectName())
                                      .field("sectionName", sectionName())
                                      .field("port", portNumber());
  return schema;
}

// Service backends need a port: a Service has several and no default.
void checkServicePort(const Site& s) {
  if (stringOr(s.value, "group", "").empty() && stringOr(s.value, "kind", "Service") == "Service" && find(s.value, "port") == nullptr) {
    s.fieldError("port", "is required when the backend is a Service");
  }
}

ObjectBuilder backendObjectRef() {
  return object()
      .field("group", groupName())
      .field("kind", kindName())
      .required("name", objectName())
      .field("namespace", dns1123Label())
      .field("port", portNumber())
      .check(checkServicePort);
}

SchemaPtr secretRef() {
  static const SchemaPtr schema =
      object().field("group", groupName()).field("kind", kindName()).required("name", objectName()).field("namespace", dns1123Label());
  return schema;
}

SchemaPtr localObjectRef() {
  static const SchemaPtr schema = object().required("group", groupName()).required("kind", kindName()).required("name", objectName());
  return schema;
}

SchemaPtr labelsOf(size_t max) { return atMost(labelMap(), max); }

SchemaPtr annotationsOf(size_t max) {
  auto map = std::make_shared<Schema>(*annotationMap());
  map->element = strLength(0, 4096);
  return atMost(map, max);
}

// --- GatewayClass --------------------------------------------------------------------------

SchemaPtr gatewayClassSpec() {
  static const RE2 kController(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+)");
  static const SchemaPtr schema =
      object()
          .required("controllerName", strRule([](std::string_view name) -> std::optional<std::string> {
                      if (name.size() <= 253 && fullMatch(name, kController)) return std::nullopt;
                      return fmt::format("\"{}\" is not a valid controller name: use a domain-prefixed path such as \"example.com/gateway-controller\"", name);
                    }))
          .field("parametersRef", object()
                                      .required("group", groupName())
                                      .required("kind", kindName())
                                      .required("name", objectName())
                                      .field("namespace", dns1123Label()))
          .field("description", strLength(0, 64));
  return schema;
}

// --- Gateway ---------------------------------------------------------------------------------

SchemaPtr namespacesFrom(std::initializer_list<const char*> values) {
  return object().field("from", enumOf(values)).field("selector", labelSelectorSchema()).check([](const Site& s) {
    if (stringAt(s.value, "from") == "Selector" && find(s.value, "selector") == nullptr) s.fieldError("selector", "is required when from is Selector");
  });
}

SchemaPtr listener() {
  static const SchemaPtr tls =
      object()
          .field("mode", enumOf({"Terminate", "Passthrough"}))
          .field("certificateRefs", atMost(listOf(secretRef()), 64))
          .field("options", annotationsOf(16))
          .check([](const Site& s) {
            // Terminating needs a certificate (or an implementation option that supplies one).
            const auto* refs = arrayAt(s.value, "certificateRefs");
            const auto* options = find(s.value, "options");
            bool hasOptions = options != nullptr && options->is_object() && !options->get_object().empty();
            if (stringOr(s.value, "mode", "Terminate") == "Terminate" && (refs == nullptr || refs->empty()) && !hasOptions) {
              s.error("certificateRefs or options must be set when mode is Terminate");
            }
          });
  static const SchemaPtr allowedRoutes =
      object()
          .field("namespaces", namespacesFrom({"All", "Selector", "Same"}))
          .field("kinds", atMost(listOf(object().field("group", groupName()).required("kind", kindName())), 8));
  static const SchemaPtr schema = object()
                                      .required("name", sectionName())
                                      .field("hostname", hostname())
                                      .required("port", portNumber())
                                      // HBONE serves waypoints and east-west gateways.
                                      .required("protocol", enumOf({"HTTP", "HTTPS", "TLS", "TCP", "HBONE"}))
                                      .field("tls", tls)
                                      .field("allowedRoutes", allowedRoutes);
  return schema;
}

void checkListeners(const Site& s) {
  const auto* listeners = arrayAt(s.value, "listeners");
  if (listeners == nullptr) return;
  std::set<std::string_view> names;
  std::set<std::tuple<int64_t, std::string_view, std::string_view>> endpoints;
  for (size_t i = 0; i < listeners->size(); ++i) {
    const auto& l = (*listeners)[i];
    Site item = itemSite(s.child("listeners"), i);
    std::string_view protocol = stringAt(l, "protocol");
    const auto* tls = find(l, "tls");
    if ((protocol == "HTTP" || protocol == "TCP") && tls != nullptr) {
      item.fieldError("tls", fmt::format("must not be set for protocol {}", protocol));
    }
    // HTTPS may leave tls out (a ListenerSet or the implementation may supply it; the
    // upstream CEL rule requiring it was reverted), TLS may not.
    if (protocol == "TLS" && tls == nullptr) item.fieldError("tls", "is required for protocol TLS");
    if (protocol == "HTTPS" && tls != nullptr && stringOr(*tls, "mode", "Terminate") != "Terminate") {
      item.child("tls").fieldError("mode", "must be Terminate for protocol HTTPS");
    }
    std::string_view host = stringAt(l, "hostname");
    if (protocol == "TCP" && !host.empty()) item.fieldError("hostname", "must not be set for protocol TCP");
    std::string_view name = stringAt(l, "name");
    if (!name.empty() && !names.insert(name).second) {
      item.fieldError("name", fmt::format("duplicate listener name \"{}\"", name));
      continue;
    }
    auto port = intAt(l, "port");
    if (port && !endpoints.insert({*port, protocol, host}).second) {
      item.error("another listener already has the same port, protocol and hostname");
    }
  }
}

SchemaPtr gatewayAddress() {
  static const RE2 kType(R"(Hostname|IPAddress|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+)");
  static const SchemaPtr schema =
      object()
          .field("type", strRule([](std::string_view type) -> std::optional<std::string> {
                   if (!type.empty() && type.size() <= 253 && fullMatch(type, kType)) return std::nullopt;
                   return fmt::format("\"{}\" is not a valid address type: IPAddress, Hostname, NamedAddress or a domain-prefixed name", type);
                 }))
          .field("value", strLength(0, 253))
          .check([](const Site& s) {
            std::string_view type = stringOr(s.value, "type", "IPAddress");
            const auto* value = find(s.value, "value");
            if (value == nullptr || !value->is_string() || value->get_string().empty()) return;
            std::string v(value->get_string());
            if (type == "IPAddress" && !isIpAddress(v)) {
              s.fieldError("value", fmt::format("\"{}\" is not a valid IP address", v));
            }
            if (type == "Hostname" && checkHostname(v)) s.fieldError("value", *checkHostname(v));
          });
  return schema;
}

void checkAddresses(const Site& s) {
  const auto* addresses = arrayAt(s.value, "addresses");
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (size_t i = 0; addresses != nullptr && i < addresses->size(); ++i) {
    std::string_view type = stringOr((*addresses)[i], "type", "IPAddress");
    std::string_view value = stringAt((*addresses)[i], "value");
    if ((type == "IPAddress" || type == "Hostname") && !value.empty() && !seen.insert({type, value}).second) {
      itemSite(s.child("addresses"), i).fieldError("value", fmt::format("duplicate {} \"{}\"", type, value));
    }
  }
}

SchemaPtr frontendValidation() {
  static const SchemaPtr schema =
      object()
          .required("caCertificateRefs", atMost(listOf(object()
                                                           .required("group", groupName())
                                                           .required("kind", kindName())
                                                           .required("name", objectName())
                                                           .field("namespace", dns1123Label()),
                                                       1),
                                                16))
          .field("mode", enumOf({"AllowValidOnly", "AllowInsecureFallback"}));
  return schema;
}

SchemaPtr gatewayTls() {
  static const SchemaPtr perPort = object().required("port", portNumber()).required("tls", object().field("validation", frontendValidation()));
  static const SchemaPtr schema =
      object()
          .field("backend", object().field("clientCertificateRef", secretRef()))
          .field("frontend", object()
                                 .required("default", object().field("validation", frontendValidation()))
                                 .field("perPort", withChecks(atMost(listOf(perPort), 64), {[](const json::value& v) -> std::optional<std::string> {
                                                                  std::set<int64_t> ports;
                                                                  for (const auto& item : v.get_array()) {
                                                                    auto port = intAt(item, "port");
                                                                    if (port && !ports.insert(*port).second) return fmt::format("duplicate port {}", *port);
                                                                  }
                                                                  return std::nullopt;
                                                                }})));
  return schema;
}

SchemaPtr gatewaySpec() {
  static const SchemaPtr schema =
      object()
          .required("gatewayClassName", objectName())
          .required("listeners", atMost(listOf(listener(), 1), 64))
          .field("addresses", atMost(listOf(gatewayAddress()), 16))
          .field("infrastructure", object()
                                       .field("labels", labelsOf(8))
                                       .field("annotations", annotationsOf(16))
                                       .field("parametersRef", localObjectRef()))
          .field("allowedListeners", object().field("namespaces", namespacesFrom({"All", "Selector", "Same", "None"})))
          .field("tls", gatewayTls())
          .field("defaultScope", enumOf({"All", "None"}))
          .check(checkListeners)
          .check(checkAddresses);
  return schema;
}

// --- Route filters ------------------------------------------------------------------------

SchemaPtr headerModifier() {
  static const SchemaPtr header = object().required("name", headerName()).required("value", strLength(1, 4096));
  static const SchemaPtr schema = object()
                                      .field("set", keyedList(header, "name", 16))
                                      .field("add", keyedList(header, "name", 16))
                                      .field("remove", setOf(str(), 16));
  return schema;
}

SchemaPtr mirrorFilter() {
  static const SchemaPtr schema =
      object()
          .required("backendRef", backendObjectRef())
          .field("percent", integer(0, 100))
          .field("fraction", object()
                                 .required("numerator", integer(0, INT32_MAX))
                                 .field("denominator", integer(1, INT32_MAX))
                                 .check([](const Site& s) {
                                   auto numerator = intAt(s.value, "numerator");
                                   if (numerator && *numerator > intAt(s.value, "denominator").value_or(100)) {
                                     s.error("numerator must be less than or equal to denominator");
                                   }
                                 }))
          .oneOf({"percent", "fraction"});
  return schema;
}

SchemaPtr pathModifier() {
  static const SchemaPtr schema =
      object()
          .required("type", enumOf({"ReplaceFullPath", "ReplacePrefixMatch"}))
          .field("replaceFullPath", strLength(0, 1024))
          .field("replacePrefixMatch", strLength(0, 1024))
          .check([](const Site& s) {
            std::string_view type = stringAt(s.value, "type");
            for (std::string_view kind : {"ReplaceFullPath", "ReplacePrefixMatch"}) {
              std::string field = kind == "ReplaceFullPath" ? "replaceFullPath" : "replacePrefixMatch";
              bool set = find(s.value, field) != nullptr;
              if (type == kind && !set) s.fieldError(field, fmt::format("is required when type is {}", kind));
              if (type != kind && set && !type.empty()) s.fieldError(field, fmt::format("can be set only when type is {}", kind));
            }
          });
  return schema;
}

SchemaPtr redirectFilter() {
  static const SchemaPtr schema =
      object()
          .field("scheme", enumOf({"http", "https"}))
          .field("hostname", preciseHostname())
          .field("path", pathModifier())
          .field("port", portNumber())
          .field("statusCode", withChecks(integer(INT64_MIN, INT64_MAX), {[](const json::value& v) -> std::optional<std::string> {
                                            int64_t code = v.is_int64() ? v.get_int64() : -1;
                                            if (code == 301 || code == 302 || code == 303 || code == 307 || code == 308) return std::nullopt;
                                            return fmt::format("unsupported value {}: must be one of 301, 302, 303, 307, 308", json::serialize(v));
                                          }}));
  return schema;
}

SchemaPtr corsFilter() {
  static const RE2 kOrigin(R"((\*)|((http(s)?)://(((\*\.)?([a-zA-Z0-9\-]+\.)*[a-zA-Z0-9-]+|\*)(:([0-9]{1,5}))?)))");
  // "*" means "anything" and stands alone.
  auto starAlone = [](const char* what) -> ValueCheck {
    return [what](const json::value& v) -> std::optional<std::string> {
      const auto& list = v.get_array();
      bool star = std::any_of(list.begin(), list.end(), [](const json::value& e) { return e.is_string() && e.get_string() == "*"; });
      if (star && list.size() > 1) return fmt::format("\"*\" cannot be combined with other {}", what);
      return std::nullopt;
    };
  };
  static const SchemaPtr schema =
      object()
          .field("allowOrigins", withChecks(setOf(strRule([](std::string_view origin) -> std::optional<std::string> {
                                                    if (origin.size() <= 253 && fullMatch(origin, kOrigin)) return std::nullopt;
                                                    return fmt::format("\"{}\" is not a valid origin: use \"*\" or scheme://host[:port], where host may start with \"*.\"", origin);
                                                  }),
                                                  64),
                                            {starAlone("origins")}))
          .field("allowCredentials", boolean())
          .field("allowMethods", withChecks(setOf(enumOf({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*"}), 9),
                                            {starAlone("methods")}))
          .field("allowHeaders", withChecks(setOf(headerName(), 64), {starAlone("headers")}))
          .field("exposeHeaders", setOf(headerName(), 64))
          .field("maxAge", integer(1, INT32_MAX));
  return schema;
}

SchemaPtr externalAuthFilter() {
  static const RE2 kPath(R"((?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+)");
  static const SchemaPtr schema =
      object()
          .required("backendRef", backendObjectRef())
          .required("protocol", enumOf({"HTTP", "GRPC"}))
          .field("grpc", object().field("allowedHeaders", setOf(str(), 64)))
          .field("http", object()
                             .field("path", strRule([](std::string_view path) -> std::optional<std::string> {
                                      if (path.size() <= 1024 && fullMatch(path, kPath)) return std::nullopt;
                                      return fmt::format("\"{}\" is not a valid path", path);
                                    }))
                             .field("allowedHeaders", setOf(str(), 64))
                             .field("allowedResponseHeaders", setOf(str(), 64)))
          .field("forwardBody", object().field("maxSize", integer(0, INT32_MAX)))
          .check([](const Site& s) {
            std::string_view protocol = stringAt(s.value, "protocol");
            for (std::string_view p : {"HTTP", "GRPC"}) {
              std::string field = p == "HTTP" ? "http" : "grpc";
              if (protocol == p && find(s.value, field) == nullptr) s.fieldError(field, fmt::format("is required when protocol is {}", p));
              if (protocol != p && !protocol.empty() && find(s.value, field) != nullptr) s.fieldError(field, fmt::format("can be set only when protocol is {}", p));
            }
          });
  return schema;
}

struct FilterKind {
  const char* type;
  const char* field;
};

// The configuration field named by `type`, and no other, must be set.
ObjectCheck filterFieldsMatchType(std::vector<FilterKind> kinds) {
  return [kinds = std::move(kinds)](const Site& s) {
    std::string_view type = stringAt(s.value, "type");
    if (std::none_of(kinds.begin(), kinds.end(), [&](const FilterKind& k) { return type == k.type; })) return;  // enum error
    for (const auto& k : kinds) {
      bool set = find(s.value, k.field) != nullptr;
      if (type == k.type && !set) s.fieldError(k.field, fmt::format("is required when type is {}", type));
      if (type != k.type && set) s.fieldError(k.field, fmt::format("must not be set when type is {}", type));
    }
  };
}

// Filters that may appear once per list, and combinations that cannot appear together.
ValueCheck filterListRules(std::vector<std::string> once) {
  return [once = std::move(once)](const json::value& v) -> std::optional<std::string> {
    std::map<std::string_view, int> count;
    for (const auto& f : v.get_array()) ++count[stringAt(f, "type")];
    if (count["RequestRedirect"] > 0 && count["URLRewrite"] > 0) return "RequestRedirect and URLRewrite filters cannot be used together";
    for (const auto& type : once) {
      if (count[type] > 1) return fmt::format("the {} filter may appear only once", type);
    }
    return std::nullopt;
  };
}

SchemaPtr httpFilters() {
  static const SchemaPtr filter = object()
                                      .required("type", enumOf({"RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror",
                                                                "RequestRedirect", "URLRewrite", "ExtensionRef", "CORS", "ExternalAuth"}))
                                      .field("requestHeaderModifier", headerModifier())
                                      .field("responseHeaderModifier", headerModifier())
                                      .field("requestMirror", mirrorFilter())
                                      .field("requestRedirect", redirectFilter())
                                      .field("urlRewrite", object().field("hostname", preciseHostname()).field("path", pathModifier()))
                                      .field("extensionRef", localObjectRef())
                                      .field("cors", corsFilter())
                                      .field("externalAuth", externalAuthFilter())
                                      .check(filterFieldsMatchType({{"RequestHeaderModifier", "requestHeaderModifier"},
                                                                    {"ResponseHeaderModifier", "responseHeaderModifier"},
                                                                    {"RequestMirror", "requestMirror"},
                                                                    {"RequestRedirect", "requestRedirect"},
                                                                    {"URLRewrite", "urlRewrite"},
                                                                    {"ExtensionRef", "extensionRef"},
                                                                    {"CORS", "cors"},
                                                                    {"ExternalAuth", "externalAuth"}}));
  static const SchemaPtr schema = withChecks(
      atMost(listOf(filter), 16),
      {filterListRules({"CORS", "RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite"})});
  return schema;
}

SchemaPtr grpcFilters() {
  static const SchemaPtr filter = object()
                                      .required("type", enumOf({"ResponseHeaderModifier", "RequestHeaderModifier", "RequestMirror", "ExtensionRef"}))
                                      .field("requestHeaderModifier", headerModifier())
                                      .field("responseHeaderModifier", headerModifier())
                                      .field("requestMirror", mirrorFilter())
                                      .field("extensionRef", localObjectRef())
                                      .check(filterFieldsMatchType({{"RequestHeaderModifier", "requestHeaderModifier"},
                                                                    {"ResponseHeaderModifier", "responseHeaderModifier"},
                                                                    {"RequestMirror", "requestMirror"},
                                                                    {"ExtensionRef", "extensionRef"}}));
  static const SchemaPtr schema =
      withChecks(atMost(listOf(filter), 16), {filterListRules({"RequestHeaderModifier", "ResponseHeaderModifier"})});
  return schema;
}

// --- HTTPRoute --------------------------------------------------------------------------------

// Exact and PathPrefix values are normalized paths; RegularExpression values are RE2, as
// Envoy runs them.
void checkPathMatch(const Site& s) {
  std::string_view type = stringOr(s.value, "type", "PathPrefix");
  std::string_view value = stringOr(s.value, "value", "/");
  if (type == "RegularExpression") {
    if (auto why = compileRegex(value)) s.fieldError("value", *why);
    return;
  }
  if (type != "Exact" && type != "PathPrefix") return;
  static const RE2 kChars(R"((?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+)");
  auto fail = [&](std::string why) { s.fieldError("value", fmt::format("\"{}\" {}", value, why)); };
  if (value.empty() || value.front() != '/') return fail("must be an absolute path starting with '/'");
  for (std::string_view bad : {"//", "/./", "/../", "%2f", "%2F", "#"}) {
    if (value.find(bad) != std::string_view::npos) return fail(fmt::format("must not contain \"{}\"", bad));
  }
  for (std::string_view bad : {"/..", "/."}) {
    if (value.size() >= bad.size() && value.substr(value.size() - bad.size()) == bad) return fail(fmt::format("must not end with \"{}\"", bad));
  }
  if (!fullMatch(value, kChars)) fail("contains characters that are not allowed in a path");
}

// A header or query parameter match; RegularExpression values must compile.
SchemaPtr valueMatch(size_t maxValue) {
  return object()
      .field("type", enumOf({"Exact", "RegularExpression"}))
      .required("name", headerName())
      .required("value", strLength(1, maxValue))
      .check([](const Site& s) {
        if (stringAt(s.value, "type") != "RegularExpression") return;
        std::string_view value = stringAt(s.value, "value");
        if (auto why = compileRegex(value); why && !value.empty()) s.fieldError("value", *why);
      });
}

SchemaPtr httpRouteMatch() {
  static const SchemaPtr schema =
      object()
          .field("path", object()
                             .field("type", enumOf({"Exact", "PathPrefix", "RegularExpression"}))
                             .field("value", strLength(0, 1024))
                             .check(checkPathMatch))
          .field("headers", keyedList(valueMatch(4096), "name", 16))
          .field("queryParams", keyedList(valueMatch(1024), "name", 16))
          .field("method", enumOf({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}));
  return schema;
}

SchemaPtr sessionPersistence() {
  static const SchemaPtr schema =
      object()
          .field("sessionName", strLength(0, 128))
          .field("absoluteTimeout", gatewayDuration())
          .field("type", enumOf({"Cookie", "Header"}))
          .field("cookieConfig", object().field("lifetimeType", enumOf({"Permanent", "Session"})))
          .check([](const Site& s) {
            const auto* cookie = find(s.value, "cookieConfig");
            if (cookie == nullptr) return;
            if (stringOr(s.value, "type", "Cookie") != "Cookie") s.fieldError("cookieConfig", "can be set only when type is Cookie");
            if (stringAt(*cookie, "lifetimeType") == "Permanent" && find(s.value, "absoluteTimeout") == nullptr) {
              s.fieldError("absoluteTimeout", "is required when cookieConfig.lifetimeType is Permanent");
            }
          });
  return schema;
}

bool hasFilterField(const json::array* filters, std::string_view field) {
  return filters != nullptr && std::any_of(filters->begin(), filters->end(), [&](const json::value& f) { return find(f, field) != nullptr; });
}

bool replacesPrefix(const json::array* filters) {
  if (filters == nullptr) return false;
  for (const auto& f : *filters) {
    for (const char* field : {"requestRedirect", "urlRewrite"}) {
      const auto* config = find(f, field);
      const auto* path = config != nullptr ? find(*config, "path") : nullptr;
      if (path != nullptr && stringAt(*path, "type") == "ReplacePrefixMatch" && find(*path, "replacePrefixMatch") != nullptr) return true;
    }
  }
  return false;
}

void checkHttpRouteRule(const Site& s) {
  const auto* filters = arrayAt(s.value, "filters");
  const auto* backends = arrayAt(s.value, "backendRefs");
  if (backends != nullptr && !backends->empty() && hasFilterField(filters, "requestRedirect")) {
    s.error("a RequestRedirect filter cannot be combined with backendRefs");
  }
  // replacePrefixMatch replaces "the matched prefix", so there must be exactly one. Left
  // out, matches and path type default to a single PathPrefix "/".
  bool prefixReplaced = replacesPrefix(filters);
  for (size_t i = 0; backends != nullptr && i < backends->size(); ++i) prefixReplaced = prefixReplaced || replacesPrefix(arrayAt((*backends)[i], "filters"));
  if (prefixReplaced) {
    const auto* matches = arrayAt(s.value, "matches");
    const auto* path = matches != nullptr && matches->size() == 1 ? find((*matches)[0], "path") : nullptr;
    bool ok = matches == nullptr || (matches->size() == 1 && (path == nullptr || stringOr(*path, "type", "PathPrefix") == "PathPrefix"));
    if (!ok) s.error("replacePrefixMatch needs exactly one match, with a PathPrefix path");
  }
}

void checkTimeouts(const Site& s) {
  std::string_view request = stringAt(s.value, "request");
  std::string_view backend = stringAt(s.value, "backendRequest");
  if (request.empty() || backend.empty()) return;
  auto r = parseDuration(request);
  auto b = parseDuration(backend);
  // 0s disables the request timeout, so any backend timeout fits under it.
  if (r && b && r->count() != 0 && *b > *r) s.fieldError("backendRequest", "must not be longer than request");
}

SchemaPtr httpRouteRule() {
  static const SchemaPtr backendRef = backendObjectRef().field("weight", integer(0, 1000000)).field("filters", httpFilters());
  static const SchemaPtr schema =
      object()
          .field("name", sectionName())
          .field("matches", atMost(listOf(httpRouteMatch()), 64))
          .field("filters", httpFilters())
          .field("backendRefs", atMost(listOf(backendRef), 16))
          .field("timeouts", object().field("request", gatewayDuration()).field("backendRequest", gatewayDuration()).check(checkTimeouts))
          .field("retry", object()
                              .field("codes", listOf(integer(400, 599), 0, /*unique=*/true))
                              .field("attempts", integer(1, INT32_MAX))
                              .field("backoff", gatewayDuration()))
          .field("sessionPersistence", sessionPersistence())
          .check(checkHttpRouteRule);
  return schema;
}

// Two references to the same parent must differ by sectionName or port, and either both
// or neither must name them.
void checkParentRefs(const Site& s) {
  const auto* refs = arrayAt(s.value, "parentRefs");
  if (refs == nullptr) return;
  auto parentOf = [](const json::value& r) {
    return std::make_tuple(stringOr(r, "group", "gateway.networking.k8s.io"), stringOr(r, "kind", "Gateway"), stringAt(r, "namespace"),
                           stringAt(r, "name"));
  };
  for (size_t j = 1; j < refs->size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      const auto& a = (*refs)[i];
      const auto& b = (*refs)[j];
      if (parentOf(a) != parentOf(b)) continue;
      auto section = [](const json::value& r) { return stringAt(r, "sectionName"); };
      auto port = [](const json::value& r) { return intAt(r, "port").value_or(0); };
      Site item = itemSite(s.child("parentRefs"), j);
      if (section(a).empty() != section(b).empty() || (port(a) == 0) != (port(b) == 0)) {
        item.error("sectionName or port must be set on every reference when several reference the same parent");
        return;
      }
      if (section(a) == section(b) && port(a) == port(b)) {
        item.error("sectionName or port must differ between references to the same parent");
        return;
      }
    }
  }
}

// The API server caps the matches of one route: 16 rules of 64 matches are allowed, but
// not all at once.
ObjectCheck totalMatches(int64_t implicitMatches) {
  return [implicitMatches](const Site& s) {
    const auto* rules = arrayAt(s.value, "rules");
    int64_t total = 0;
    for (size_t i = 0; rules != nullptr && i < rules->size(); ++i) {
      const auto* matches = arrayAt((*rules)[i], "matches");
      total += matches != nullptr ? static_cast<int64_t>(matches->size()) : implicitMatches;
    }
    if (total > 128) s.fieldError("rules", fmt::format("must have at most 128 matches across all rules, not {}", total));
  };
}

void checkRuleNames(const Site& s) {
  const auto* rules = arrayAt(s.value, "rules");
  std::set<std::string_view> names;
  for (size_t i = 0; rules != nullptr && i < rules->size(); ++i) {
    std::string_view name = stringAt((*rules)[i], "name");
    if (!name.empty() && !names.insert(name).second) {
      itemSite(s.child("rules"), i).fieldError("name", fmt::format("duplicate rule name \"{}\"", name));
    }
  }
}

SchemaPtr httpRouteSpec() {
  static const SchemaPtr schema = object()
                                      .field("parentRefs", atMost(listOf(parentRef()), 32))
                                      .field("hostnames", atMost(listOf(hostname()), 16))
                                      .field("rules", atMost(listOf(httpRouteRule(), 1), 16))
                                      .field("useDefaultGateways", enumOf({"All", "None"}))
                                      .check(checkParentRefs)
                                      .check(totalMatches(1))
                                      .check(checkRuleNames);
  return schema;
}

// --- GRPCRoute --------------------------------------------------------------------------------

SchemaPtr grpcMethodMatch() {
  static const RE2 kService(R"((?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*)");
  static const RE2 kMethod(R"([A-Za-z_][A-Za-z_0-9]*)");
  static const SchemaPtr schema =
      object()
          .field("type", enumOf({"Exact", "RegularExpression"}))
          .field("service", strLength(0, 1024))
          .field("method", strLength(0, 1024))
          .check([](const Site& s) {
            if (find(s.value, "service") == nullptr && find(s.value, "method") == nullptr) {
              s.error("one of service or method must be set");
              return;
            }
            bool exact = stringOr(s.value, "type", "Exact") == "Exact";
            for (const char* field : {"service", "method"}) {
              const auto* v = find(s.value, field);
              if (v == nullptr || !v->is_string()) continue;
              std::string_view text(v->get_string());
              if (!exact) {
                if (auto why = compileRegex(text)) s.fieldError(field, *why);
              } else if (!fullMatch(text, std::string_view(field) == "service" ? kService : kMethod)) {
                s.fieldError(field, fmt::format("\"{}\" is not a valid gRPC {} name", text, field));
              }
            }
          });
  return schema;
}

SchemaPtr grpcRouteSpec() {
  static const SchemaPtr backendRef = backendObjectRef().field("weight", integer(0, 1000000)).field("filters", grpcFilters());
  static const SchemaPtr rule = object()
                                    .field("name", sectionName())
                                    .field("matches", atMost(listOf(object()
                                                                        .field("method", grpcMethodMatch())
                                                                        .field("headers", keyedList(valueMatch(4096), "name", 16))),
                                                             64))
                                    .field("filters", grpcFilters())
                                    .field("backendRefs", atMost(listOf(backendRef), 16))
                                    .field("sessionPersistence", sessionPersistence());
  static const SchemaPtr schema = object()
                                      .field("parentRefs", atMost(listOf(parentRef()), 32))
                                      .field("hostnames", atMost(listOf(hostname()), 16))
                                      .field("rules", atMost(listOf(rule), 16))
                                      .field("useDefaultGateways", enumOf({"All", "None"}))
                                      .check(checkParentRefs)
                                      .check(totalMatches(0))
                                      .check(checkRuleNames);
  return schema;
}

// --- TLSRoute and TCPRoute --------------------------------------------------------------------

// Their rules hold backends alone: a TLSRoute matches by its hostnames (the client's SNI),
// a TCPRoute takes every connection of its listener. One schema serves every version, so it
// takes the loosest: v1alpha2 leaves hostnames and backendRefs optional (v1 requires them).
SchemaPtr l4RouteRule() {
  static const SchemaPtr schema = object()
                                      .field("name", sectionName())
                                      .field("backendRefs", atMost(listOf(backendObjectRef().field("weight", integer(0, 1000000))), 16));
  return schema;
}

SchemaPtr tlsRouteSpec() {
  static const SchemaPtr schema = object()
                                      .field("parentRefs", atMost(listOf(parentRef()), 32))
                                      .field("hostnames", atMost(listOf(hostname()), 16))
                                      .required("rules", atMost(listOf(l4RouteRule(), 1), 16))
                                      .check(checkParentRefs)
                                      .check(checkRuleNames);
  return schema;
}

SchemaPtr tcpRouteSpec() {
  static const SchemaPtr schema = object()
                                      .field("parentRefs", atMost(listOf(parentRef()), 32))
                                      .required("rules", atMost(listOf(l4RouteRule(), 1), 16))
                                      .check(checkParentRefs)
                                      .check(checkRuleNames);
  return schema;
}

// --- ReferenceGrant ---------------------------------------------------------------------------

SchemaPtr referenceGrantSpec() {
  static const SchemaPtr schema =
      object()
          .required("from", atMost(listOf(object()
                                              .required("group", groupName())
                                              .required("kind", kindName())
                                              .required("namespace", dns1123Label()),
                                          1),
                                   16))
          .required("to", atMost(listOf(object().required("group", groupName()).required("kind", kindName()).field("name", objectName()), 1), 16));
  return schema;
}

KindInfo gatewayApiKind(std::string kind, std::string plural, std::vector<std::string> shortNames, std::vector<std::string> versions,
                        std::string storage, bool namespaced, SchemaPtr spec) {
  return KindInfo{
      .group = "gateway.networking.k8s.io",
      .kind = std::move(kind),
      .versions = std::move(versions),
      .storageVersion = std::move(storage),
      .plural = std::move(plural),
      .shortNames = std::move(shortNames),
      .namespaced = namespaced,
      .body = object().required("spec", std::move(spec)).field("status", preservedStatus()),
  };
}

}  // namespace

void addGatewayApiKinds(std::vector<KindInfo>& kinds) {
  kinds.push_back(gatewayApiKind("GatewayClass", "gatewayclasses", {"gc"}, {"v1", "v1beta1"}, "v1", false, gatewayClassSpec()));
  kinds.push_back(gatewayApiKind("Gateway", "gateways", {"gtw"}, {"v1", "v1beta1"}, "v1", true, gatewaySpec()));
  kinds.push_back(gatewayApiKind("HTTPRoute", "httproutes", {}, {"v1", "v1beta1"}, "v1", true, httpRouteSpec()));
  kinds.push_back(gatewayApiKind("GRPCRoute", "grpcroutes", {}, {"v1"}, "v1", true, grpcRouteSpec()));
  // TLSRoute is v1 since Gateway API v1.5 (Istio 1.30); TCPRoute's v1 is newer still, so
  // v1alpha2, which every Istio reads, is what is stored for it.
  kinds.push_back(gatewayApiKind("TLSRoute", "tlsroutes", {}, {"v1", "v1alpha3", "v1alpha2"}, "v1", true, tlsRouteSpec()));
  kinds.push_back(gatewayApiKind("TCPRoute", "tcproutes", {}, {"v1alpha2", "v1"}, "v1alpha2", true, tcpRouteSpec()));
  // ReferenceGrant gained v1 in Gateway API v1.5; the CRD still stores v1beta1, which is
  // also the version Istio reads, so that is the version written.
  kinds.push_back(gatewayApiKind("ReferenceGrant", "referencegrants", {"refgrant"}, {"v1", "v1beta1"}, "v1beta1", true, referenceGrantSpec()));
}

}  // namespace weft::model
