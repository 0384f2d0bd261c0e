// networking.istio.io DestinationRule: what happens to traffic once routed to a host, its
// subsets, load balancing (locality, consistent hashing), connection pools, outlier
// detection and client TLS.
//
// As for every networking kind (see schemas_networking.cc), both the CRD's rules and
// istiod's webhook checks are enforced.

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/networking_schemas.h"
#include "model/schema_rules.h"

namespace weft::model {
namespace {

namespace json = boost::json;

// "region/zone/subzone"; a trailing "*" stands for every zone or subzone.
std::optional<std::string> checkLocality(std::string_view locality) {
  auto stars = std::count(locality.begin(), locality.end(), '*');
  if (stars > 1 || (stars == 1 && locality.back() != '*')) {
    return fmt::format("\"{}\": '*' may appear only once, at the end", locality);
  }
  std::string_view rest = locality;
  for (int part = 0; part < 3; ++part) {
    size_t slash = part == 2 ? std::string_view::npos : rest.find('/');
    if (rest.substr(0, slash).empty()) return fmt::format("\"{}\" has an empty region, zone or subzone", locality);
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return std::nullopt;
}

// Two localities overlap when one covers the other ("us-east" and "us-east/zone1").
bool localitiesOverlap(std::string_view a, std::string_view b) {
  auto split = [](std::string_view l) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (int i = 0; i < 3; ++i) {
      size_t slash = i == 2 ? std::string_view::npos : l.find('/', start);
      parts.push_back(l.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return parts;
  };
  auto pa = split(a), pb = split(b);
  for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
    if (pa[i] == "*" || pb[i] == "*") return true;
    if (pa[i] != pb[i]) return false;
  }
  return true;  // one is a prefix of the other
}

// Reports the first locality that overlaps an earlier one.
void checkLocalityOverlaps(const std::vector<std::pair<std::string_view, Site>>& localities) {
  for (size_t j = 1; j < localities.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      if (localitiesOverlap(localities[i].first, localities[j].first)) {
        localities[j].second.error(fmt::format("\"{}\" overlaps with \"{}\"", localities[j].first, localities[i].first));
        return;
      }
    }
  }
}

bool isTopologyLabel(std::string_view key) {
  return key == "topology.kubernetes.io/region" || key == "topology.kubernetes.io/zone" || key == "topology.istio.io/subzone";
}

SchemaPtr regionName() {
  static const SchemaPtr schema = strRule([](std::string_view region) -> std::optional<std::string> {
    if (region.find('/') != std::string_view::npos) return fmt::format("\"{}\": failover takes regions, not zones or subzones", region);
    if (region.find('*') != std::string_view::npos) return fmt::format("\"{}\": failover regions cannot contain '*'", region);
    return std::nullopt;
  });
  return schema;
}

SchemaPtr failover() {
  static const SchemaPtr schema = object().field("from", regionName()).field("to", regionName()).check([](const Site& s) {
    if (present(s.value, "from") && stringAt(s.value, "from") == stringAt(s.value, "to")) s.error("from and to must be different regions");
  });
  return schema;
}

void checkLocalityLb(const Site& s) {
  if (present(s.value, "distribute") && (present(s.value, "failover") || present(s.value, "failoverPriority"))) {
    s.error("distribute cannot be combined with failover or failoverPriority");
    return;
  }
  if (present(s.value, "failover")) {
    const auto* priority = arrayAt(s.value, "failoverPriority");
    for (size_t i = 0; priority != nullptr && i < priority->size(); ++i) {
      const auto& key = (*priority)[i];
      if (key.is_string() && isTopologyLabel(std::string_view(key.get_string()))) {
        itemSite(s.child("failoverPriority"), i).error(fmt::format("\"{}\" cannot be combined with failover", std::string_view(key.get_string())));
        return;
      }
    }
  }
  const auto* distribute = arrayAt(s.value, "distribute");
  if (distribute == nullptr) return;
  std::vector<std::pair<std::string_view, Site>> sources;
  for (size_t i = 0; i < distribute->size(); ++i) {
    Site entry = itemSite(s.child("distribute"), i);
    const auto* to = objectAt(entry.value, "to");
    if (to != nullptr) {
      int64_t total = 0;
      bool numeric = true;
      std::vector<std::pair<std::string_view, Site>> targets;
      for (const auto& [locality, weight] : *to) {
        numeric = numeric && (weight.is_int64() || weight.is_uint64());
        if (numeric) total += asInt(weight);
        if (!checkLocality(locality)) targets.emplace_back(locality, entrySite(entry.child("to"), locality));
      }
      if (numeric && total != 100) entry.fieldError("to", fmt::format("weights must add up to 100, not {}", total));
      checkLocalityOverlaps(targets);
    }
    std::string_view from = stringAt(entry.value, "from");
    if (!from.empty() && !checkLocality(from)) sources.emplace_back(from, entry.child("from"));
  }
  checkLocalityOverlaps(sources);
}

SchemaPtr localityLbSetting() {
  static const SchemaPtr schema =
      object()
          .field("distribute", listOf(object()
                                          .field("from", strRule(checkLocality))
                                          .field("to", mapOf(integer(1, 100), stringRule(checkLocality)))))
          .field("failover", listOf(failover()))
          .field("failoverPriority", listOf(nonEmptyStr()))
          .field("enabled", boolean())
          .check(checkLocalityLb);
  return schema;
}

SchemaPtr zoneAwareLbSetting() {
  static const SchemaPtr schema =
      object()
          .field("enabled", boolean())
          .field("failover", listOf(failover()))
          // Region, zone and subzone ordering is built in; only other labels may be listed.
          .field("failoverPriority", listOf(strRule([](std::string_view key) -> std::optional<std::string> {
                   if (key.empty()) return std::string("must not be empty");
                   if (isTopologyLabel(key)) return fmt::format("\"{}\": region, zone and subzone are already handled by zone-aware load balancing", key);
                   return std::nullopt;
                 })))
          .field("minClusterSize", integer(1, INT64_MAX));
  return schema;
}

bool isPrime(int64_t n) {
  if (n < 2) return false;
  for (int64_t f = 2; f * f <= n; ++f) {
    if (n % f == 0) return false;
  }
  return true;
}

SchemaPtr consistentHash() {
  static const SchemaPtr cookie =
      object()
          .required("name", nonEmptyStr())
          .field("path", str())
          .field("ttl", durationOrZero())  // 0 makes a session cookie
          .field("attributes", listOf(object().required("name", nonEmptyStr()).field("value", str())))
          .check([](const Site& s) {
            const auto* attributes = arrayAt(s.value, "attributes");
            std::set<std::string_view> seen;
            for (size_t i = 0; attributes != nullptr && i < attributes->size(); ++i) {
              std::string_view name = stringAt((*attributes)[i], "name");
              if (!name.empty() && !seen.insert(name).second) {
                itemSite(s.child("attributes"), i).fieldError("name", fmt::format("duplicate cookie attribute \"{}\"", name));
              }
            }
          });
  // Envoy's Maglev table size must be prime and below 5000011.
  static const SchemaPtr tableSize = withChecks(integer(1, 5000010), {[](const json::value& v) -> std::optional<std::string> {
                                                  if (!isPrime(asInt(v))) return "must be a prime number";
                                                  return std::nullopt;
                                                }});
  static const SchemaPtr schema = object()
                                      .field("httpHeaderName", nonEmptyStr())
                                      .field("httpCookie", cookie)
                                      .field("useSourceIp", boolean())
                                      .field("httpQueryParameterName", nonEmptyStr())
                                      .field("ringHash", object().field("minimumRingSize", integer(0, INT64_MAX)))
                                      .field("maglev", object().required("tableSize", tableSize))
                                      .field("minimumRingSize", integer(0, INT64_MAX))  // deprecated: ringHash
                                      .oneOf({"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"})
                                      .oneOf({"minimumRingSize", "ringHash", "maglev"});
  return schema;
}

SchemaPtr loadBalancer() {
  static const SchemaPtr schema =
      object()
          .field("simple", enumOf({"UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"}))
          .field("consistentHash", consistentHash())
          .field("localityLbSetting", localityLbSetting())
          .field("zoneAwareLbSetting", zoneAwareLbSetting())
          .field("warmupDurationSecs", istioDuration())
          .field("warmup", object()
                               .required("duration", istioDuration())
                               .field("minimumPercent", numberBetween(0, 100))
                               .field("aggression", withChecks(number(), {[](const json::value& v) -> std::optional<std::string> {
                                                                 if (asDouble(v) <= 0) return "must be greater than 0";
                                                                 return std::nullopt;
                                                               }})))
          .oneOf({"simple", "consistentHash"})
          .oneOf({"localityLbSetting", "zoneAwareLbSetting"});
  return schema;
}

SchemaPtr nonNegativeInt32() {
  static const SchemaPtr schema = integer(0, INT32_MAX);
  return schema;
}

SchemaPtr connectionPool() {
  static const SchemaPtr tcp = object()
                                   .field("maxConnections", nonNegativeInt32())
                                   .field("connectTimeout", istioDuration())
                                   .field("tcpKeepalive", object()
                                                              .field("probes", uint32())
                                                              .field("time", istioDuration())
                                                              .field("interval", istioDuration()))
                                   .field("maxConnectionDuration", istioDuration())
                                   .field("idleTimeout", durationOrZero());  // 0s turns the timeout off
  static const SchemaPtr http =
      object()
          .field("http1MaxPendingRequests", nonNegativeInt32())
          .field("http2MaxRequests", nonNegativeInt32())
          .field("maxRequestsPerConnection", nonNegativeInt32())
          .field("maxRetries", nonNegativeInt32())
          .field("idleTimeout", istioDuration())
          .field("h2UpgradePolicy", enumOf({"DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"}))
          .field("useClientProtocol", boolean())
          .field("maxConcurrentStreams", nonNegativeInt32())
          .field("http2KeepAlive", object().required("interval", istioDuration()).required("timeout", istioDuration()))
          .check([](const Site& s) {
            if (stringAt(s.value, "h2UpgradePolicy") == "UPGRADE" && boolAt(s.value, "useClientProtocol")) {
              s.fieldError("useClientProtocol", "must not be true when h2UpgradePolicy is UPGRADE");
            }
          });
  static const SchemaPtr schema = object().field("tcp", tcp).field("http", http).check([](const Site& s) {
    if (find(s.value, "tcp") == nullptr && find(s.value, "http") == nullptr) s.error("one of tcp or http must be set");
  });
  return schema;
}

SchemaPtr outlierDetection() {
  static const SchemaPtr schema =
      object()
          .field("consecutiveErrors", int32())  // deprecated: consecutive5xxErrors / consecutiveGatewayErrors
          .field("splitExternalLocalOriginErrors", boolean())
          .field("consecutiveLocalOriginFailures", uint32())
          .field("consecutiveGatewayErrors", uint32())
          .field("consecutive5xxErrors", uint32())
          .field("interval", istioDuration())
          .field("baseEjectionTime", istioDuration())
          .field("maxEjectionPercent", integer(0, 100))
          .field("minHealthPercent", integer(0, 100))
          .field("outlierDetectionHttpErrorCodes", listOf(integer(100, 599)))
          .check([](const Site& s) {
            auto failures = intAt(s.value, "consecutiveLocalOriginFailures");
            if (failures && *failures > 0 && !boolAt(s.value, "splitExternalLocalOriginErrors")) {
              s.fieldError("consecutiveLocalOriginFailures", "needs splitExternalLocalOriginErrors: true");
            }
          });
  return schema;
}

// Client-side TLS. With credentialName the certificates come from a Secret, so the file
// fields must stay empty; ISTIO_MUTUAL uses the workload's own certificates.
void checkClientTls(const Site& s) {
  std::string_view mode = stringAt(s.value, "mode");
  bool credential = present(s.value, "credentialName");
  if (mode == "ISTIO_MUTUAL") {
    for (const char* f : {"clientCertificate", "privateKey", "caCertificates", "credentialName"}) {
      if (present(s.value, f)) s.fieldError(f, "cannot be set with mode ISTIO_MUTUAL");
    }
    return;
  }
  if (boolAt(s.value, "insecureSkipVerify")) {
    std::vector<const char*> conflicting;
    if (mode == "SIMPLE") conflicting = {"caCertificates", "credentialName", "subjectAltNames"};
    if (mode == "MUTUAL") conflicting = {"caCertificates", "subjectAltNames"};
    for (const char* f : conflicting) {
      if (find(s.value, f) != nullptr) s.fieldError(f, "cannot be set when insecureSkipVerify is true");
    }
  }
  if ((mode == "SIMPLE" || mode == "MUTUAL") && credential) {
    for (const char* f : {"clientCertificate", "privateKey", "caCertificates", "caCrl"}) {
      if (present(s.value, f)) s.fieldError(f, "cannot be set together with credentialName");
    }
    return;
  }
  if (mode == "MUTUAL") {
    for (const char* f : {"clientCertificate", "privateKey"}) {
      if (!present(s.value, f)) s.fieldError(f, "is required for mode MUTUAL unless credentialName is set");
    }
  }
}

SchemaPtr clientTls() {
  static const SchemaPtr schema = object()
                                      .field("mode", enumOf({"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"}))
                                      .field("clientCertificate", str())
                                      .field("privateKey", str())
                                      .field("caCertificates", str())
                                      .field("credentialName", str())
                                      .field("subjectAltNames", listOf(str()))
                                      .field("sni", str())
                                      .field("insecureSkipVerify", boolean())
                                      .field("caCrl", str())
                                      .check(checkClientTls);
  return schema;
}

SchemaPtr portTrafficPolicy() {
  static const SchemaPtr schema = object()
                                      .required("port", object().required("number", portNumber()))
                                      .field("loadBalancer", loadBalancer())
                                      .field("connectionPool", connectionPool())
                                      .field("outlierDetection", outlierDetection())
                                      .field("tls", clientTls())
                                      .check([](const Site& s) {
                                        for (const char* f : {"loadBalancer", "connectionPool", "outlierDetection", "tls"}) {
                                          if (find(s.value, f) != nullptr) return;
                                        }
                                        s.error("one of loadBalancer, connectionPool, outlierDetection or tls must be set");
                                      });
  return schema;
}

SchemaPtr trafficPolicy() {
  static const SchemaPtr tunnel =
      object()
          .field("protocol", enumOf({"CONNECT", "POST"}))
          .required("targetHost", strRule([](std::string_view host) -> std::optional<std::string> {
                      if (isIpAddress(host) || !checkFqdn(host)) return std::nullopt;
                      return fmt::format("\"{}\" is not a valid host name or IP address", host);
                    }))
          .required("targetPort", portNumber());
  static const SchemaPtr schema =
      object()
          .field("loadBalancer", loadBalancer())
          .field("connectionPool", connectionPool())
          .field("outlierDetection", outlierDetection())
          .field("tls", clientTls())
          .field("portLevelSettings", atMost(listOf(portTrafficPolicy()), 4096))
          .field("tunnel", tunnel)
          .field("proxyProtocol", object().field("version", enumOf({"V1", "V2"})))
          .field("retryBudget", object()
                                    .field("percent", numberBetween(0, 100))
                                    .field("minRetryConcurrency", uint32())
                                    .field("budgetInterval", istioDuration()))
          .oneOf({"tunnel", "proxyProtocol"})
          .check([](const Site& s) {
            if (s.value.get_object().empty()) {
              s.error("must set at least one of loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, tunnel, proxyProtocol or retryBudget");
            }
          });
  return schema;
}

void checkDestinationRule(const Site& s) {
  const auto* subsets = arrayAt(s.value, "subsets");
  std::set<std::string_view> names;
  for (size_t i = 0; subsets != nullptr && i < subsets->size(); ++i) {
    std::string_view name = stringAt((*subsets)[i], "name");
    if (!name.empty() && !names.insert(name).second) {
      itemSite(s.child("subsets"), i).fieldError("name", fmt::format("duplicate subset name \"{}\"", name));
    }
  }
  // A rule that picks workloads with a selector applies to its own namespace only.
  const auto* exported = arrayAt(s.value, "exportTo");
  if (find(s.value, "workloadSelector") != nullptr && exported != nullptr &&
      (exported->size() > 1 || containsString(exported, "*") || containsString(exported, "~"))) {
    s.fieldError("exportTo", "a destination rule with a workloadSelector can be exported only to its own namespace");
  }
}

}  // namespace

SchemaPtr destinationRuleSpecSchema() {
  static const SchemaPtr schema = object()
                                      .required("host", strRule(checkWildcardDomain))
                                      .field("trafficPolicy", trafficPolicy())
                                      .field("subsets", listOf(object()
                                                                   .required("name", subsetName())
                                                                   .field("labels", labelMap())
                                                                   .field("trafficPolicy", trafficPolicy())))
                                      .field("exportTo", exportTo(false))
                                      .field("workloadSelector", object().field("matchLabels", selectorLabels()))
                                      .check(checkDestinationRule);
  return schema;
}

}  // namespace weft::model
