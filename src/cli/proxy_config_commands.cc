// `weft proxy-config secret` and `weft ztunnel-config`: what a node's ztunnel holds, read
// from its admin config dump, printed in the shapes istioctl users know (and pipe to jq).

#include <fmt/core.h>

#include <boost/json.hpp>

#include "base/base64.h"
#include "cli/cli.h"
#include "cli/object_commands.h"
#include "cli/pod_target.h"
#include "cli/ztunnel_admin.h"
#include "model/json_access.h"

namespace weft::cli {
namespace {

namespace json = boost::json;
using model::at;
using model::stringAt;

struct ProxyConfigFlags {
  std::string what;
  std::string target;
  std::string ns = "default";
  std::string node;
  std::string output = "short";
  StoreFlags store;
};

int printError(const Error& error) {
  fmt::print(stderr, "error: {}\n", error.message);
  return kExitFailure;
}

const json::array& arrayOf(const json::value& v, std::initializer_list<std::string_view> path) {
  static const json::array empty;
  const auto& found = at(v, path);
  return found.is_array() ? found.get_array() : empty;
}

// Envoy's secret dump entry, as istioctl prints a proxy's: the private key is never shown.
json::object secretEntry(const std::string& name, const std::string& updated, json::object body) {
  body["@type"] = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
  body["name"] = name;
  return json::object{{"name", name}, {"versionInfo", updated}, {"lastUpdated", updated}, {"secret", std::move(body)}};
}

Result<json::object> secretsFor(const json::value& dump, const std::string& identity) {
  for (const auto& cert : arrayOf(dump, {"certificates"})) {
    if (stringAt(cert, {"identity"}) != identity) continue;
    const auto& chain = arrayOf(cert, {"cert_chain"});
    if (chain.empty()) break;
    std::string leafAndIntermediates, root = stringAt(chain.back(), {"pem"});
    for (size_t i = 0; i + 1 < chain.size(); ++i) leafAndIntermediates += stringAt(chain[i], {"pem"});
    std::string updated = stringAt(chain.front(), {"valid_from"});
    json::object tls{{"certificateChain", json::object{{"inlineBytes", base64Encode(leafAndIntermediates)}}},
                     {"privateKey", json::object{{"inlineBytes", base64Encode("[redacted]")}}}};
    json::object validation{{"trustedCa", json::object{{"inlineBytes", base64Encode(root)}}}};
    return json::object{{"dynamicActiveSecrets",
                         json::array{secretEntry("default", updated, json::object{{"tlsCertificate", std::move(tls)}}),
                                     secretEntry("ROOTCA", updated, json::object{{"validationContext", std::move(validation)}})}}};
  }
  return makeError("ztunnel holds no certificate for {} yet", identity);
}

void printSecretTable(const json::value& dump, const std::string& identity) {
  fmt::print("{:<15} {:<11} {:<8} {:<11} {:<34} {:<21} {}\n", "RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER",
             "NOT BEFORE");
  for (const auto& cert : arrayOf(dump, {"certificates"})) {
    if (stringAt(cert, {"identity"}) != identity) continue;
    const auto& chain = arrayOf(cert, {"cert_chain"});
    if (chain.empty()) continue;
    auto row = [](const std::string& name, const std::string& type, const json::value& c) {
      fmt::print("{:<15} {:<11} {:<8} {:<11} {:<34} {:<21} {}\n", name, type, "ACTIVE", "true", stringAt(c, {"serial_number"}),
                 stringAt(c, {"expiration_time"}), stringAt(c, {"valid_from"}));
    };
    row("default", "Cert Chain", chain.front());
    row("ROOTCA", "CA", chain.back());
  }
}

int runSecret(const ProxyConfigFlags& flags) {
  auto cluster = openCluster(flags.store);
  if (!cluster) return printError(cluster.error());
  auto target = findPod(cluster->store, flags.ns, flags.target);
  if (!target) return printError(target.error());
  const auto& pod = target->pod;
  auto ztunnel = ztunnelOnNode(cluster->store, stringAt(pod.value(), {"spec", "nodeName"}));
  if (!ztunnel) return printError(ztunnel.error());
  auto dump = fetchConfigDump(*cluster, *ztunnel);
  if (!dump) return printError(dump.error());
  bool served = false;
  for (const auto& p : arrayOf(*dump, {"pods"})) served = served || (stringAt(p, {"namespace"}) == pod.ns() && stringAt(p, {"name"}) == pod.name());
  if (!served) {
    return printError(makeError("pod {}/{} is not in the mesh: label its namespace istio.io/dataplane-mode=ambient or istio.io/rev=<revision>",
                                pod.ns(), pod.name()));
  }
  std::string td = stringAt(*dump, {"meshConfig", "trust_domain"});
  std::string sa = stringAt(pod.value(), {"spec", "serviceAccountName"});
  std::string identity = fmt::format("spiffe://{}/ns/{}/sa/{}", td.empty() ? "cluster.local" : td, pod.ns(), sa.empty() ? "default" : sa);
  if (flags.output == "json") {
    auto secrets = secretsFor(*dump, identity);
    if (!secrets) return printError(secrets.error());
    fmt::print("{}\n", json::serialize(*secrets));
    return kExitOk;
  }
  printSecretTable(*dump, identity);
  return kExitOk;
}

std::string joined(const json::value& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& v : list.get_array()) {
    if (v.is_string()) out += (out.empty() ? "" : ",") + std::string(v.get_string());
  }
  return out;
}

void printZtunnelTable(const std::string& what, const json::value& dump) {
  if (what == "workloads") {
    fmt::print("{:<16} {:<40} {:<16} {:<28} {:<16} {}\n", "NAMESPACE", "POD NAME", "ADDRESS", "NODE", "WAYPOINT", "PROTOCOL");
    for (const auto& w : arrayOf(dump, {"workloads"})) {
      std::string waypoint = stringAt(w, {"waypoint"});
      std::string protocol = stringAt(w, {"tunnel_protocol"});
      fmt::print("{:<16} {:<40} {:<16} {:<28} {:<16} {}\n", stringAt(w, {"namespace"}), stringAt(w, {"name"}), joined(at(w, {"addresses"})),
                 stringAt(w, {"node"}), waypoint.empty() ? "None" : waypoint, protocol.empty() ? "TCP" : protocol);
    }
  } else if (what == "services") {
    fmt::print("{:<16} {:<44} {:<16} {:<16} {}\n", "NAMESPACE", "SERVICE NAME", "SERVICE VIP", "WAYPOINT", "ENDPOINTS");
    for (const auto& s : arrayOf(dump, {"services"})) {
      size_t healthy = 0, total = arrayOf(s, {"endpoints"}).size();
      for (const auto& e : arrayOf(s, {"endpoints"})) healthy += at(e, {"healthy"}) == json::value(true) ? 1 : 0;
      std::string waypoint = stringAt(s, {"waypoint"});
      fmt::print("{:<16} {:<44} {:<16} {:<16} {}/{}\n", stringAt(s, {"namespace"}), stringAt(s, {"hostname"}), joined(at(s, {"addresses"})),
                 waypoint.empty() ? "None" : waypoint, healthy, total);
    }
  } else if (what == "policies") {
    fmt::print("{:<16} {:<36} {:<8} {}\n", "NAMESPACE", "POLICY NAME", "ACTION", "SCOPE");
    for (const auto& p : arrayOf(dump, {"policies"})) {
      std::string action = stringAt(p, {"action"}), scope = stringAt(p, {"scope"});
      fmt::print("{:<16} {:<36} {:<8} {}\n", stringAt(p, {"namespace"}), stringAt(p, {"name"}), action.empty() ? "ALLOW" : action,
                 scope.empty() ? "GLOBAL" : scope);
    }
  } else {
    fmt::print("{:<56} {:<11} {:<10} {:<21} {}\n", "CERTIFICATE NAME", "TYPE", "STATUS", "NOT AFTER", "NOT BEFORE");
    for (const auto& c : arrayOf(dump, {"certificates"})) {
      const auto& chain = arrayOf(c, {"cert_chain"});
      for (size_t i = 0; i < chain.size(); ++i) {
        fmt::print("{:<56} {:<11} {:<10} {:<21} {}\n", stringAt(c, {"identity"}), i == 0 ? "Leaf" : i + 1 == chain.size() ? "Root" : "Intermediate",
                   stringAt(c, {"state"}), stringAt(chain[i], {"expiration_time"}), stringAt(chain[i], {"valid_from"}));
      }
    }
  }
}

int runZtunnelConfig(const ProxyConfigFlags& flags) {
  auto cluster = openCluster(flags.store);
  if (!cluster) return printError(cluster.error());
  std::string node = flags.node;
  if (node.empty()) {
    auto nodes = cluster->store.list("Node", "");
    if (!nodes || nodes->empty()) return printError(makeError("the cluster has no nodes"));
    node = nodes->front().name();
  }
  auto ztunnel = ztunnelOnNode(cluster->store, node);
  if (!ztunnel) return printError(ztunnel.error());
  auto dump = fetchConfigDump(*cluster, *ztunnel);
  if (!dump) return printError(dump.error());
  if (flags.output == "json") {
    fmt::print("{}\n", json::serialize(at(*dump, {flags.what})));
    return kExitOk;
  }
  printZtunnelTable(flags.what, *dump);
  return kExitOk;
}

}  // namespace

void addProxyConfigCommands(CLI::App& app, int& exitCode) {
  auto* proxyConfig = app.add_subcommand("proxy-config", "What a workload's proxy holds (its ztunnel's view of it)");
  proxyConfig->alias("pc");
  proxyConfig->require_subcommand(1);
  auto secretFlags = std::make_shared<ProxyConfigFlags>();
  auto* secret = proxyConfig->add_subcommand("secret", "The certificate held for a workload");
  secret->add_option("target", secretFlags->target, "POD|deployment/NAME|svc/NAME")->required();
  secret->add_option("-n,--namespace", secretFlags->ns, "Namespace")->capture_default_str();
  secret->add_option("-o,--output", secretFlags->output, "short or json")->check(CLI::IsMember({"short", "json"}))->capture_default_str();
  addStoreOption(secret, secretFlags->store);
  secret->callback([secretFlags, &exitCode] { exitCode = runSecret(*secretFlags); });

  auto ztFlags = std::make_shared<ProxyConfigFlags>();
  auto* ztunnelConfig = app.add_subcommand("ztunnel-config", "What a node's ztunnel holds: workloads, services, policies, certificates");
  ztunnelConfig->alias("zc");
  ztunnelConfig->add_option("what", ztFlags->what, "workloads|services|policies|certificates")
      ->required()
      ->check(CLI::IsMember({"workloads", "services", "policies", "certificates"}));
  ztunnelConfig->add_option("--node", ztFlags->node, "Node whose ztunnel to ask (default: the first node)");
  ztunnelConfig->add_option("-o,--output", ztFlags->output, "short or json")->check(CLI::IsMember({"short", "json"}))->capture_default_str();
  addStoreOption(ztunnelConfig, ztFlags->store);
  ztunnelConfig->callback([ztFlags, &exitCode] { exitCode = runZtunnelConfig(*ztFlags); });
}

}  // namespace weft::cli
