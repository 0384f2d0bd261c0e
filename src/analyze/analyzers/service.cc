// Services and ServiceEntries: port names Istio cannot read a protocol from (IST0118),
// TCP ServiceEntry ports with no address to listen on (IST0134), and ServiceEntries that
// one namespace sees giving one host and port different protocols (IST0177).
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

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

// --- IST0177 ----------------------------------------------------------------------------------

// The namespaces a ServiceEntry is visible in: "*" for all (exportTo unset or naming "*"),
// "." as its own namespace.
std::set<std::string> exportScopes(const model::Object& se) {
  const auto& exportTo = at(se.value(), {"spec", "exportTo"});
  std::set<std::string> scopes;
  if (!exportTo.is_array() || exportTo.get_array().empty()) return {"*"};
  for (const auto& entry : exportTo.get_array()) {
    if (!entry.is_string()) continue;
    std::string scope(entry.get_string());
    if (scope == "*") return {"*"};
    scopes.insert(scope == "." ? se.ns() : scope);
  }
  return scopes;
}

// One host and port given different protocols by ServiceEntries a namespace sees together
// (both exported to it, or one to all): which protocol wins is up to the order they were
// read. Each ServiceEntry involved is reported once.
void conflictingProtocols(Context& ctx) {
  using Key = std::tuple<std::string, std::string, int64_t>;  // scope, host, port
  struct Use {
    const model::Object* se;
    std::string protocol;  // upper case
  };
  std::map<Key, std::vector<Use>> uses;
  for (const auto* se : ctx.ofKind("ServiceEntry.networking.istio.io")) {
    const auto& hosts = at(se->value(), {"spec", "hosts"});
    const auto& ports = at(se->value(), {"spec", "ports"});
    if (!hosts.is_array() || !ports.is_array()) continue;
    for (const auto& scope : exportScopes(*se)) {
      for (const auto& host : hosts.get_array()) {
        if (!host.is_string()) continue;
        for (const auto& port : ports.get_array()) {
          std::string protocol = stringAt(port, {"protocol"});
          for (auto& c : protocol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          uses[{scope, std::string(host.get_string()), model::intAt(port, {"number"})}].push_back({se, protocol});
        }
      }
    }
  }
  std::set<const model::Object*> reported;
  for (const auto& [key, direct] : uses) {
    const auto& [scope, host, port] = key;
    std::vector<Use> seen = direct;
    if (scope != "*") {
      if (auto all = uses.find({"*", host, port}); all != uses.end()) seen.insert(seen.end(), all->second.begin(), all->second.end());
    }
    std::set<std::string> protocols, names;
    for (const auto& use : seen) {
      protocols.insert(use.protocol);
      names.insert(use.se->ns() + "/" + use.se->name());
    }
    if (protocols.size() < 2) continue;
    std::string nameList, protocolList;
    for (const auto& n : names) nameList += (nameList.empty() ? "" : ", ") + n;
    for (const auto& p : protocols) protocolList += (protocolList.empty() ? "" : ", ") + (p.empty() ? std::string("(unset)") : p);
    for (const auto& use : seen) {
      if (!reported.insert(use.se).second) continue;
      ctx.report(makeMessage(msg::kConflictingServiceEntryProtocol, *use.se, "/spec/ports",
                             fmt::format("ServiceEntries {} give host {} port {} different protocols ({}): which one applies depends on "
                                         "the order they are read",
                                         nameList, host, port, protocolList)));
    }
  }
}

}  // namespace

void addServiceAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"service.PortNameAnalyzer", portNames});
  out.push_back({"serviceentry.ProtocolAddressesAnalyzer", serviceEntryAddresses});
  out.push_back({"serviceentry.ConflictingServiceEntryProtocolAnalyzer", conflictingProtocols});
}

}  // namespace weft::analyze
