#include "control/traffic_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "base/ascii.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::durationMsAt;
using model::intAt;
using model::stringAt;

namespace {

// Envoy's and Istio's outlier-detection defaults for fields a section leaves unset.
constexpr uint32_t kDefaultConsecutive5xx = 5;
constexpr uint32_t kDefaultIntervalMs = 10'000;
constexpr uint32_t kDefaultBaseEjectionMs = 30'000;
constexpr uint32_t kDefaultMaxEjectionPercent = 10;

uint32_t clampedUint(const json::value& v, std::initializer_list<std::string_view> path) {
  return static_cast<uint32_t>(std::clamp<int64_t>(intAt(v, path), 0, UINT32_MAX));
}

void loadBalancer(const json::value& spec, weft::v1::LoadBalancer& out, const TrafficPolicyNote& note) {
  out.Clear();
  std::string simple = stringAt(spec, {"simple"});
  if (simple == "LEAST_REQUEST" || simple == "LEAST_CONN") {
    out.set_policy(weft::v1::LoadBalancer::LEAST_REQUEST);
  } else if (simple == "RANDOM") {
    out.set_policy(weft::v1::LoadBalancer::RANDOM);
  } else if (simple == "PASSTHROUGH") {
    note("loadBalancer.simple PASSTHROUGH is not served: round robin is used");
  }
  for (const char* unserved : {"localityLbSetting", "zoneAwareLbSetting", "warmupDurationSecs", "warmup"}) {
    if (!at(spec, {unserved}).is_null()) note(fmt::format("loadBalancer.{} is not served by weft-proxy yet", unserved));
  }
  const auto& hash = at(spec, {"consistentHash"});
  if (!hash.is_object()) return;
  out.set_policy(weft::v1::LoadBalancer::CONSISTENT_HASH);
  if (!stringAt(hash, {"httpHeaderName"}).empty()) {
    out.set_hash_header(asciiLower(stringAt(hash, {"httpHeaderName"})));
  } else if (at(hash, {"httpCookie"}).is_object()) {
    out.set_hash_cookie(stringAt(hash, {"httpCookie", "name"}));
    out.set_hash_cookie_path(stringAt(hash, {"httpCookie", "path"}));
    auto ttl = durationMsAt(hash, {"httpCookie", "ttl"});
    if (!ttl) note(fmt::format("loadBalancer.consistentHash.httpCookie.ttl: {}: no cookie is minted", ttl.error().message));
    out.set_hash_cookie_ttl_s(ttl ? *ttl / 1000 : 0);
  } else if (at(hash, {"useSourceIp"}) == json::value(true)) {
    out.set_hash_source_ip(true);
  } else if (!stringAt(hash, {"httpQueryParameterName"}).empty()) {
    out.set_hash_query_parameter(stringAt(hash, {"httpQueryParameterName"}));
  } else {
    note("loadBalancer.consistentHash names no key: round robin is used");
    out.set_policy(weft::v1::LoadBalancer::ROUND_ROBIN);
  }
}

void connectionPool(const json::value& spec, weft::v1::ConnectionPool& out, const TrafficPolicyNote& note) {
  out.Clear();
  out.set_max_connections(clampedUint(spec, {"tcp", "maxConnections"}));
  out.set_max_pending_requests(clampedUint(spec, {"http", "http1MaxPendingRequests"}));
  out.set_max_requests(clampedUint(spec, {"http", "http2MaxRequests"}));
  out.set_max_requests_per_connection(clampedUint(spec, {"http", "maxRequestsPerConnection"}));
  auto connect = durationMsAt(spec, {"tcp", "connectTimeout"});
  if (!connect) note(fmt::format("connectionPool.tcp.connectTimeout: {}: the default is used", connect.error().message));
  out.set_connect_timeout_ms(connect ? *connect : 0);
  auto idle = durationMsAt(spec, {"http", "idleTimeout"});
  if (!idle) note(fmt::format("connectionPool.http.idleTimeout: {}: the default (1h) is used", idle.error().message));
  out.set_idle_timeout_ms(idle ? *idle : 0);
  auto tcpIdle = durationMsAt(spec, {"tcp", "idleTimeout"});
  if (!tcpIdle) note(fmt::format("connectionPool.tcp.idleTimeout: {}: the default (1h) is used", tcpIdle.error().message));
  out.set_tcp_idle_timeout_ms(tcpIdle ? *tcpIdle : 0);
  // "0s" turns it off, as in Istio; absent means the default. (Validation refuses anything
  // between 0 and 1ms, so a parsed 0 is a written 0.)
  out.set_tcp_idle_timeout_disabled(tcpIdle && *tcpIdle == 0 && at(spec, {"tcp", "idleTimeout"}).is_string());
  auto lifetime = durationMsAt(spec, {"tcp", "maxConnectionDuration"});
  if (!lifetime) note(fmt::format("connectionPool.tcp.maxConnectionDuration: {}: connections are not limited", lifetime.error().message));
  out.set_max_connection_duration_ms(lifetime ? *lifetime : 0);
  // h2UpgradePolicy UPGRADE: the user vouches the port speaks HTTP/2 (Istio upgrades even
  // a port it would not call HTTP); useClientProtocol: follow the client. Validation
  // refuses both at once. A GRPC/HTTP2 Service port is HTTP/2 whatever is said here
  // (proxy_view.cc).
  if (stringAt(spec, {"http", "h2UpgradePolicy"}) == "UPGRADE") {
    out.set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
  } else if (at(spec, {"http", "useClientProtocol"}) == json::value(true)) {
    out.set_upstream_protocol(weft::v1::ConnectionPool::CLIENT);
  }
}

void outlierDetection(const json::value& spec, weft::v1::OutlierDetection& out, const TrafficPolicyNote& note) {
  out.Clear();
  out.set_consecutive_5xx(at(spec, {"consecutive5xxErrors"}).is_null() ? kDefaultConsecutive5xx : clampedUint(spec, {"consecutive5xxErrors"}));
  out.set_consecutive_gateway_errors(clampedUint(spec, {"consecutiveGatewayErrors"}));
  auto duration = [&](const char* field, uint32_t otherwise) {
    auto ms = durationMsAt(spec, {field});
    if (!ms) note(fmt::format("outlierDetection.{}: {}: the default is used", field, ms.error().message));
    return ms && *ms > 0 ? *ms : otherwise;
  };
  out.set_interval_ms(duration("interval", kDefaultIntervalMs));
  out.set_base_ejection_ms(duration("baseEjectionTime", kDefaultBaseEjectionMs));
  out.set_max_ejection_percent(at(spec, {"maxEjectionPercent"}).is_null() ? kDefaultMaxEjectionPercent
                                                                          : std::min<uint32_t>(100, clampedUint(spec, {"maxEjectionPercent"})));
}

// Client TLS to the endpoints (upstream_tls.h in weft-proxy). Validation has already
// refused the conflicting combinations (model/schemas_destination_rule.cc).
void clientTls(const json::value& spec, weft::v1::UpstreamTls& out) {
  out.Clear();
  std::string mode = stringAt(spec, {"mode"});
  if (mode == "SIMPLE") out.set_mode(weft::v1::UpstreamTls::SIMPLE);
  if (mode == "MUTUAL") out.set_mode(weft::v1::UpstreamTls::MUTUAL);
  if (mode == "ISTIO_MUTUAL") out.set_mode(weft::v1::UpstreamTls::ISTIO_MUTUAL);
  out.set_sni(stringAt(spec, {"sni"}));
  for (const auto& san : arrayAt(spec, {"subjectAltNames"})) {
    if (san.is_string()) out.add_subject_alt_names(std::string(san.get_string()));
  }
  out.set_insecure_skip_verify(at(spec, {"insecureSkipVerify"}).is_bool() && at(spec, {"insecureSkipVerify"}).get_bool());
  out.set_client_certificate(stringAt(spec, {"clientCertificate"}));
  out.set_private_key(stringAt(spec, {"privateKey"}));
  out.set_ca_certificates(stringAt(spec, {"caCertificates"}));
  out.set_ca_crl(stringAt(spec, {"caCrl"}));
  out.set_credential_name(stringAt(spec, {"credentialName"}));
}

// One level of the merge: the sections `policy` sets replace what is there.
void applyLevel(const json::value& policy, weft::v1::Cluster& cluster, const TrafficPolicyNote& note) {
  if (!policy.is_object()) return;
  if (at(policy, {"loadBalancer"}).is_object()) loadBalancer(at(policy, {"loadBalancer"}), *cluster.mutable_load_balancer(), note);
  if (at(policy, {"connectionPool"}).is_object()) connectionPool(at(policy, {"connectionPool"}), *cluster.mutable_connection_pool(), note);
  if (at(policy, {"outlierDetection"}).is_object()) {
    outlierDetection(at(policy, {"outlierDetection"}), *cluster.mutable_outlier_detection(), note);
  }
  if (at(policy, {"tls"}).is_object()) clientTls(at(policy, {"tls"}), *cluster.mutable_tls());
  for (const char* unserved : {"tunnel", "proxyProtocol"}) {
    if (!at(policy, {unserved}).is_null()) note(fmt::format("trafficPolicy.{} is not served by weft-proxy yet", unserved));
  }
}

void applyWithPorts(const json::value& policy, uint32_t port, weft::v1::Cluster& cluster, const TrafficPolicyNote& note) {
  applyLevel(policy, cluster, note);
  for (const auto& level : arrayAt(policy, {"portLevelSettings"})) {
    if (port != 0 && intAt(level, {"port", "number"}) == port) applyLevel(level, cluster, note);
  }
}

}  // namespace

void applyTrafficPolicy(const model::Object& destinationRule, uint32_t port, const std::string& subset, weft::v1::Cluster& cluster,
                        const TrafficPolicyNote& note) {
  applyWithPorts(at(destinationRule.value(), {"spec", "trafficPolicy"}), port, cluster, note);
  if (subset.empty()) return;
  for (const auto& s : arrayAt(destinationRule.value(), {"spec", "subsets"})) {
    if (stringAt(s, {"name"}) == subset) applyWithPorts(at(s, {"trafficPolicy"}), port, cluster, note);
  }
}

}  // namespace weft::control
