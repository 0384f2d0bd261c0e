// Services and ServiceEntries: port names Istio cannot read a protocol from (IST0118), and
// TCP ServiceEntry ports with no address to listen on (IST0134).
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>

#include "analyze/analyzer.h"

namespace weft::analyze {
namespace {

namespace json = boost::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// --- IST0118: port names ------------------------------------------------------------------

bool isSystemNamespace(std::string_view ns) {
  return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease" || ns == "istio-system";
}

// Istio takes the protocol from the name's part before the first '-': "http", "http-web".
bool followsNamingConvention(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kProtocols{"grpc", "grpc-web", "http", "http2", "https", "mongo",
                                                               "mysql", "redis", "tcp", "tls", "udp"};
  std::string prefix = lower(name.substr(0, name.find('-')));
  std::string whole = lower(name);
  return std::any_of(kProtocols.begin(), kProtocols.end(), [&](std::string_view p) { return p == prefix || p == whole; });
}

std::string targetPortText(const json::value& port) {
  const auto& target = at(port, {"targetPort"});
  if (target.is_string()) return std::string(target.get_string());
  if (target.is_number()) return json::serialize(target);
  return json::serialize(at(port, {"port"}));  // Kubernetes defaults targetPort to port
}

void portNames(Context& ctx) {
  for (const auto* service : ctx.ofKind("Service")) {
    if (isSystemNamespace(service->ns()) || service->ns() == ctx.istioNamespace()) continue;
    // ExternalName Services have their own code in Istio (IST0150), which Weft does not emit.
    if (stringAt(service->value(), {"spec", "type"}) == "ExternalName") continue;
    const auto& ports = at(service->value(), {"spec", "ports"});
    if (!ports.is_array()) continue;
    for (size_t i = 0; i < ports.get_array().size(); ++i) {
      const auto& port = ports.get_array()[i];
      std::string protocol = stringAt(port, {"protocol"});
      if (!stringAt(port, {"appProtocol"}).empty()) continue;  // an explicit protocol needs no name
      if (!protocol.empty() && protocol != "TCP") continue;    // UDP and SCTP are not sniffed
      std::string name = stringAt(port, {"name"});
      if (followsNamingConvention(name)) continue;
      ctx.report(makeMessage(msg::kPortNameIsNotUnderNamingConvention, *service, fmt::format("/spec/ports/{}", i),
                             fmt::format("Port name {} (port: {}, targetPort: {}) doesn't follow the naming convention of Istio port.",
                                         name, json::serialize(at(port, {"port"})), targetPortText(port))));
    }
  }
}

// --- IST0134: ServiceEntry addresses ------------------------------------------------------

// True when `text` sets `key` to true ("KEY: true" or "KEY: \"true\""), as in the mesh
// config's proxyMetadata.
bool setsTrue(std::string_view text, std::string_view key) {
  auto pos = text.find(key);
  if (pos == std::string_view::npos) return false;
  std::string_view rest = text.substr(pos + key.size());
  size_t i = 0;
  while (i < rest.size() && (rest[i] == ':' || rest[i] == ' ' || rest[i] == '"' || rest[i] == '\'')) ++i;
  return rest.substr(i, 4) == "true";
}

// With DNS capture and auto-allocation on, istiod gives every ServiceEntry a virtual IP.
bool meshAutoAllocatesAddresses(const Context& ctx) {
  const auto* config = ctx.find("ConfigMap", ctx.istioNamespace(), "istio");
  if (config == nullptr) return false;
  std::string mesh = stringAt(config->value(), {"data", "mesh"});
  return setsTrue(mesh, "ISTIO_META_DNS_CAPTURE") && setsTrue(mesh, "ISTIO_META_DNS_AUTO_ALLOCATE");
}

// Addresses given by the user, or allocated by istiod and written to the status.
bool hasAddresses(const model::Object& se) {
  auto nonEmpty = [](const json::value& list) { return list.is_array() && !list.get_array().empty(); };
  return nonEmpty(at(se.value(), {"spec", "addresses"})) || nonEmpty(at(se.value(), {"status", "addresses"}));
}

void serviceEntryAddresses(Context& ctx) {
  if (meshAutoAllocatesAddresses(ctx)) return;
  for (const auto* se : ctx.ofKind("ServiceEntry.networking.istio.io")) {
    if (hasAddresses(*se)) continue;
    const auto& ports = at(se->value(), {"spec", "ports"});
    if (!ports.is_array()) continue;
    for (size_t i = 0; i < ports.get_array().size(); ++i) {
      std::string protocol = lower(stringAt(ports.get_array()[i], {"protocol"}));
      if (!protocol.empty() && protocol != "tcp") continue;
      ctx.report(makeMessage(msg::kServiceEntryAddressesRequired, *se, fmt::format("/spec/ports/{}", i),
                             "ServiceEntry addresses are required for this protocol."));
    }
  }
}

}  // namespace

void addServiceAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"service.PortNameAnalyzer", portNames});
  out.push_back({"serviceentry.ProtocolAddressesAnalyzer", serviceEntryAddresses});
}

}  // namespace weft::analyze
