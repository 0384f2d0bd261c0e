// Istio Gateways against their workloads: selectors that match no pod (IST0101), ports the
// workload's Service does not expose (IST0162), Gateways fighting over a listener (IST0145)
// and TLS credentials that are missing (IST0101) or unusable (IST0161).
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>

#include "analyze/analyzer.h"
#include "base/base64.h"
#include "base/time_format.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

const char* const kGateway = "Gateway.networking.istio.io";

const json::object& emptyObject() {
  static const json::object empty;
  return empty;
}

const json::object& selectorOf(const model::Object& gateway) {
  const auto& selector = at(gateway.value(), {"spec", "selector"});
  return selector.is_object() ? selector.get_object() : emptyObject();
}

const json::array& serversOf(const model::Object& gateway) {
  static const json::array none;
  const auto& servers = at(gateway.value(), {"spec", "servers"});
  return servers.is_array() ? servers.get_array() : none;
}

std::optional<int64_t> intOf(const json::value& number) {
  if (number.is_int64()) return number.get_int64();
  if (number.is_uint64()) return static_cast<int64_t>(number.get_uint64());
  return std::nullopt;
}

std::optional<int64_t> portNumberOf(const json::value& server) { return intOf(at(server, {"port", "number"})); }

void reportSelectorNotFound(Context& ctx, const model::Object& gateway) {
  ctx.report(makeMessage(msg::kReferencedResourceNotFound, gateway, "/spec/selector",
                         fmt::format("Referenced selector not found: \"{}\"", selectorString(selectorOf(gateway)))));
}

// --- IST0101 / IST0162: the workload and its Service ----------------------------------------

// A Service with no selector selects no pods (its endpoints are managed by hand).
bool serviceSelects(const model::Object& service, const model::Object& pod) {
  if (service.ns() != pod.ns()) return false;
  const auto& selector = at(service.value(), {"spec", "selector"});
  if (!selector.is_object() || selector.get_object().empty()) return false;
  return labelsMatch(pod.labels(), selector.get_object());
}

// The TCP ports of every Service that selects one of `pods`: any of them will do.
std::set<int64_t> servicePortsFor(const Context& ctx, const std::vector<const model::Object*>& pods) {
  std::set<int64_t> out;
  for (const auto* service : ctx.ofKind("Service")) {
    bool selects = std::any_of(pods.begin(), pods.end(), [&](const auto* pod) { return serviceSelects(*service, *pod); });
    const auto& ports = at(service->value(), {"spec", "ports"});
    if (!selects || !ports.is_array()) continue;
    for (const auto& port : ports.get_array()) {
      std::string protocol = stringAt(port, {"protocol"});
      auto number = intOf(at(port, {"port"}));
      if ((protocol.empty() || protocol == "TCP") && number) out.insert(*number);
    }
  }
  return out;
}

void ingressGatewayPorts(Context& ctx) {
  for (const auto* gateway : ctx.ofKind(kGateway)) {
    auto pods = ctx.podsMatching("", selectorOf(*gateway));
    if (pods.empty()) {
      reportSelectorNotFound(ctx, *gateway);
      continue;
    }
    auto exposed = servicePortsFor(ctx, pods);
    const auto& servers = serversOf(*gateway);
    for (size_t i = 0; i < servers.size(); ++i) {
      auto number = portNumberOf(servers[i]);
      if (!number || *number == 0 || exposed.count(*number) > 0) continue;  // 0: a unix:// bind
      ctx.report(makeMessage(msg::kGatewayPortNotDefinedOnService, *gateway, fmt::format("/spec/servers/{}/port/number", i),
                             fmt::format("The gateway is listening on a target port (port {}) that is not defined in the Service "
                                         "associated with its workload instances (Pod selector {}). If you need to access the "
                                         "gateway port through the gateway Service, it will not be available.",
                                         *number, selectorString(selectorOf(*gateway)))));
    }
  }
}

// --- IST0145: two Gateways configuring the same listener ----------------------------------

// The DNS name of a server host, without its "namespace/" part: the listener does not care
// which namespaces may bind to it.
std::string dnsNameOf(std::string_view host) {
  auto slash = host.find('/');
  return std::string(slash == std::string_view::npos ? host : host.substr(slash + 1));
}

std::vector<std::string> serverHosts(const json::value& server) {
  std::vector<std::string> out;
  const auto& hosts = at(server, {"hosts"});
  if (!hosts.is_array()) return out;
  for (const auto& h : hosts.get_array()) {
    if (h.is_string()) out.push_back(dnsNameOf(std::string_view(h.get_string())));
  }
  return out;
}

bool hostsOverlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const auto& x) {
    return std::any_of(b.begin(), b.end(), [&](const auto& y) { return hostsMatch(x, y); });
  });
}

struct GatewayWorkload {
  const model::Object* gateway;
  std::set<const model::Object*> pods;
};

// Gateways share a workload when their selectors are the same (whether or not pods are
// running yet) or when some pod is selected by both.
bool shareWorkload(const GatewayWorkload& a, const GatewayWorkload& b) {
  if (selectorOf(*a.gateway) == selectorOf(*b.gateway)) return true;
  return std::any_of(a.pods.begin(), a.pods.end(), [&](const auto* pod) { return b.pods.count(pod) > 0; });
}

bool serverConflicts(const json::value& server, const model::Object& other) {
  auto port = portNumberOf(server);
  auto hosts = serverHosts(server);
  for (const auto& candidate : serversOf(other)) {
    if (portNumberOf(candidate) == port && hostsOverlap(hosts, serverHosts(candidate))) return true;
  }
  return false;
}

std::string joinHosts(const json::value& server) {
  std::string out;
  const auto& hosts = at(server, {"hosts"});
  if (!hosts.is_array()) return out;
  for (const auto& h : hosts.get_array()) {
    if (h.is_string()) out += (out.empty() ? "" : ",") + std::string(std::string_view(h.get_string()));
  }
  return out;
}

void conflictingGateways(Context& ctx) {
  std::vector<GatewayWorkload> workloads;
  for (const auto* gateway : ctx.ofKind(kGateway)) {
    auto pods = ctx.podsMatching("", selectorOf(*gateway));
    workloads.push_back({gateway, {pods.begin(), pods.end()}});
  }
  for (const auto& self : workloads) {
    const auto& servers = serversOf(*self.gateway);
    for (size_t i = 0; i < servers.size(); ++i) {
      std::vector<std::string> rivals;
      for (const auto& other : workloads) {
        if (other.gateway == self.gateway || !shareWorkload(self, other)) continue;
        if (serverConflicts(servers[i], *other.gateway)) rivals.push_back(other.gateway->ns() + "/" + other.gateway->name());
      }
      if (rivals.empty()) continue;
      std::string list;
      for (const auto& r : rivals) list += (list.empty() ? "" : ",") + r;
      ctx.report(makeMessage(msg::kConflictingGateways, *self.gateway, fmt::format("/spec/servers/{}", i),
                             fmt::format("Conflict with gateways {} (workload selector {}, port {}, hosts {}).", list,
                                         selectorString(selectorOf(*self.gateway)), portNumberOf(servers[i]).value_or(0),
                                         joinHosts(servers[i]))));
    }
  }
}

// --- IST0101 / IST0161: TLS credentials -----------------------------------------------------

// A value of the Secret's data (base64) or stringData (plain), decoded.
std::optional<std::string> secretValue(const model::Object& secret, std::string_view key) {
  const auto& data = at(secret.value(), {"data"});
  if (data.is_object()) {
    if (const auto* v = data.get_object().if_contains(key); v != nullptr && v->is_string()) {
      auto decoded = base64Decode(std::string_view(v->get_string()));
      if (decoded) return *decoded;
    }
  }
  const auto& plain = at(secret.value(), {"stringData"});
  if (plain.is_object()) {
    if (const auto* v = plain.get_object().if_contains(key); v != nullptr && v->is_string()) return std::string(v->get_string());
  }
  return std::nullopt;
}

// Istio reads a certificate and key from tls.crt/tls.key (kubernetes.io/tls) or cert/key
// (generic Secrets), and a CA for MUTUAL from ca.crt/cacert or a "<name>-cacert" Secret.
std::optional<std::string> credentialProblem(const Context& ctx, const model::Object& secret, bool needsCa) {
  auto cert = secretValue(secret, "tls.crt");
  auto key = secretValue(secret, "tls.key");
  if (!cert && !key) {
    cert = secretValue(secret, "cert");
    key = secretValue(secret, "key");
  }
  if (!cert) return "no certificate (tls.crt or cert)";
  if (!key) return "no private key (tls.key or key)";
  // The same decoders the CA uses (and fuzzes): a key that does not parse, a certificate
  // that does not parse, a pair that does not match, an expired certificate.
  auto certs = tls::parseCertificates(*cert);
  if (!certs) return "the certificate does not parse: " + certs.error().message;
  auto privateKey = tls::parsePrivateKey(*key);
  if (!privateKey) return "the private key does not parse: " + privateKey.error().message;
  X509* leaf = certs->front().get();
  if (!tls::keyMatchesCertificate(leaf, privateKey->get())) return "the private key does not match the certificate";
  if (tls::notAfter(leaf) < std::chrono::system_clock::now()) {
    return fmt::format("the certificate expired on {}", weft::formatDate(tls::notAfter(leaf)));
  }
  if (needsCa && !secretValue(secret, "ca.crt") && !secretValue(secret, "cacert") &&
      ctx.find("Secret", secret.ns(), secret.name() + "-cacert") == nullptr) {
    return "modes MUTUAL and OPTIONAL_MUTUAL need a CA certificate (ca.crt, cacert, or a Secret named " + secret.name() + "-cacert)";
  }
  return std::nullopt;
}

struct CredentialRef {
  std::string name;
  std::string pointer;
  bool needsCa;
};

std::vector<CredentialRef> credentialsOf(const model::Object& gateway) {
  std::vector<CredentialRef> out;
  const auto& servers = serversOf(gateway);
  for (size_t i = 0; i < servers.size(); ++i) {
    const auto& tls = at(servers[i], {"tls"});
    bool needsCa = stringAt(tls, {"mode"}) == "MUTUAL" || stringAt(tls, {"mode"}) == "OPTIONAL_MUTUAL";
    std::string pointer = fmt::format("/spec/servers/{}/tls", i);
    if (auto name = stringAt(tls, {"credentialName"}); !name.empty()) out.push_back({name, pointer + "/credentialName", needsCa});
    const auto& names = at(tls, {"credentialNames"});
    if (!names.is_array()) continue;
    for (size_t n = 0; n < names.get_array().size(); ++n) {
      const auto& name = names.get_array()[n];
      if (name.is_string()) out.push_back({std::string(name.get_string()), fmt::format("{}/credentialNames/{}", pointer, n), needsCa});
    }
  }
  return out;
}

// The Secret must live where the gateway workload runs, not where the Gateway object is.
void gatewaySecrets(Context& ctx) {
  for (const auto* gateway : ctx.ofKind(kGateway)) {
    auto credentials = credentialsOf(*gateway);
    if (credentials.empty()) continue;
    std::set<std::string> namespaces;
    for (const auto* pod : ctx.podsMatching("", selectorOf(*gateway))) namespaces.insert(pod->ns());
    if (namespaces.empty()) {
      reportSelectorNotFound(ctx, *gateway);
      continue;
    }
    for (const auto& credential : credentials) {
      for (const auto& ns : namespaces) {
        const auto* secret = ctx.find("Secret", ns, credential.name);
        if (secret == nullptr) {
          ctx.report(makeMessage(msg::kReferencedResourceNotFound, *gateway, credential.pointer,
                                 fmt::format("Referenced credential not found: \"{}\"", credential.name)));
          break;
        }
        if (auto problem = credentialProblem(ctx, *secret, credential.needsCa)) {
          ctx.report(makeMessage(msg::kInvalidGatewayCredential, *gateway, credential.pointer,
                                 fmt::format("The credential referenced by the Gateway {} in namespace {} is invalid, which can "
                                             "cause the traffic not to work as expected (Secret {}/{}: {}).",
                                             gateway->name(), gateway->ns(), ns, credential.name, *problem)));
          break;
        }
      }
    }
  }
}

}  // namespace

void addGatewayAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"gateway.IngressGatewayPortAnalyzer", ingressGatewayPorts});
  out.push_back({"gateway.ConflictingGatewayAnalyzer", conflictingGateways});
  out.push_back({"gateway.SecretAnalyzer", gatewaySecrets});
}

}  // namespace weft::analyze
