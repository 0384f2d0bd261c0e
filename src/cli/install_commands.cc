// `weft install`, `weft uninstall` and `weft version`: istioctl's install verbs on the
// local cluster. The plan (what objects an IstioOperator means) comes from src/install;
// this file applies it, waits for it, and undoes it.

#include <fmt/core.h>

#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "cli/cli.h"
#include "cli/label_selector.h"
#include "cli/manifest_input.h"
#include "cli/object_commands.h"
#include "cli/pod_target.h"
#include "base/base64.h"
#include "control/mesh_ca.h"
#include "control/node_credential.h"
#include "install/install_names.h"
#include "install/install_plan.h"
#include "install/k8s_objects.h"
#include "model/json_access.h"

namespace weft::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using model::at;
using model::stringAt;
using namespace std::chrono_literals;

constexpr const char* kWeftVersion = "0.1.0";
constexpr auto kReadyTimeout = 60s;

struct InstallFlags {
  std::vector<std::string> files;
  std::string revision;
  std::vector<std::string> sets;
  bool yes = false;
  bool purge = false;
  StoreFlags store;
};

fs::path programDir() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path();
}

// The program an image of the plan runs on the local cluster; empty when that part of
// Weft is not built (yet).
bool programBuilt(const std::string& image) {
  std::string program = image.find("weftd") != std::string::npos     ? "weftd"
                        : image.find("ztunnel") != std::string::npos ? "weft-ztunnel"
                                                                     : "weft-proxy";
  std::error_code ec;
  return fs::exists(programDir() / program, ec);
}

std::string firstImage(const model::Object& o) {
  const auto& containers = at(o.value(), {"spec", "template", "spec", "containers"});
  if (!containers.is_array() || containers.get_array().empty()) return {};
  return stringAt(containers.get_array()[0], {"image"});
}

bool revisionInstalled(const store::LocalStore& store, const std::string& revision) {
  auto deployment = store.get({"Deployment.apps", "istio-system", install::weftdDeploymentName(revision)});
  return deployment && *deployment;
}

bool deploymentReady(const store::LocalStore& store, const std::string& ns, const std::string& name) {
  auto d = store.get({"Deployment.apps", ns, name});
  if (!d || !*d) return false;
  const auto& ready = at((*d)->value(), {"status", "readyReplicas"});
  const auto& wanted = at((*d)->value(), {"spec", "replicas"});
  return ready.is_int64() && ready.get_int64() >= (wanted.is_int64() ? wanted.get_int64() : 1);
}

// Adds variables to the first container of a workload's pod template.
void appendEnv(model::Object& workload, std::initializer_list<std::pair<std::string, std::string>> variables) {
  auto& container = workload.mutableValue().at("spec").at("template").at("spec").at("containers").as_array().at(0).as_object();
  auto& env = container["env"];
  if (!env.is_array()) env = json::array();
  for (const auto& [name, value] : variables) env.as_array().push_back(install::envValue(name, value));
}

// Every node runs a ready ztunnel (the local runtime writes DaemonSet pods' readiness).
bool ztunnelsReady(const store::LocalStore& store) {
  auto nodes = store.list("Node", "");
  auto pods = store.list("Pod", "istio-system");
  if (!nodes || !pods) return false;
  std::set<std::string> readyOn;
  for (const auto& pod : *pods) {
    if (pod.label("app") != "ztunnel") continue;
    const auto& conditions = at(pod.value(), {"status", "conditions"});
    for (const auto& c : conditions.is_array() ? conditions.get_array() : json::array()) {
      if (stringAt(c, {"type"}) == "Ready" && stringAt(c, {"status"}) == "True") readyOn.insert(stringAt(pod.value(), {"spec", "nodeName"}));
    }
  }
  return readyOn.size() >= nodes->size();
}

// The revision whose ztunnel DaemonSet runs already, if any.
std::string installedZtunnelRevision(const store::LocalStore& store) {
  auto ds = store.get({"DaemonSet.apps", "istio-system", "ztunnel"});
  if (!ds || !*ds) return {};
  return (*ds)->label(install::kRevisionLabel);
}

// Why a pod of the deployment is not running, for the error when waiting times out.
std::string podProblem(const store::LocalStore& store, const std::string& ns, const std::string& app) {
  auto pods = store.list("Pod", ns);
  if (!pods) return {};
  for (const auto& pod : *pods) {
    if (pod.label("app") != app) continue;
    const auto& statuses = at(pod.value(), {"status", "containerStatuses"});
    for (const auto& s : statuses.is_array() ? statuses.get_array() : json::array()) {
      if (auto reason = stringAt(s, {"state", "waiting", "reason"}); !reason.empty()) {
        return fmt::format(": pod {} is {} ({})", pod.name(), reason, stringAt(s, {"state", "waiting", "message"}));
      }
    }
  }
  return {};
}

// One credential per node for its ztunnel: a client certificate naming the node
// (weft://node/<name>), signed by the mesh CA, so weftd can tell which node asks.
Result<std::vector<model::Object>> nodeCredentials(store::LocalStore& store, const install::InstallPlan& plan) {
  std::string trustDomain = stringAt(json::value(plan.meshConfig), {"trustDomain"});
  auto ca = control::loadMeshCa(store, trustDomain.empty() ? "cluster.local" : trustDomain, systemClock());
  if (!ca) return ca.error().wrap("the mesh CA");
  auto nodes = store.list("Node", "");
  if (!nodes) return nodes.error();
  std::vector<model::Object> secrets;
  for (const auto& node : *nodes) {
    auto credential = control::issueNodeCredential(*ca, node.name(), systemClock());
    if (!credential) return credential.error();
    json::object labels{{std::string(install::kManagedByLabel), std::string(install::kManagedByValue)},
                        {std::string(install::kRevisionLabel), plan.revisionLabel()},
                        {std::string(install::kComponentLabel), "Ztunnel"}};
    json::value secret = json::object{
        {"apiVersion", "v1"},
        {"kind", "Secret"},
        {"metadata", json::object{{"name", install::withRevision("weft-node-credential", plan.revision) + "-" + node.name()}, {"namespace", "istio-system"}, {"labels", labels}}},
        {"type", "kubernetes.io/tls"},
        {"data", json::object{{"tls.crt", base64Encode(credential->certChainPem)}, {"tls.key", base64Encode(credential->keyPem)}}}};
    secrets.emplace_back(model::findKind("v1", "Secret"), std::move(secret));
  }
  return secrets;
}

int runInstall(const InstallFlags& flags) {
  if (flags.files.empty() && flags.sets.empty()) return printError(makeError("weft install needs -f FILE or --set path=value"));
  auto cluster = openCluster(flags.store);
  if (!cluster) return printError(cluster.error());
  auto decoded = readManifests(flags.files, {.ns = "istio-system"}, false);
  if (!decoded.ok()) {
    for (const auto& e : decoded.errors) fmt::print(stderr, "error: {}\n", e);
    return kExitFailure;
  }
  auto plan = install::planInstall(decoded.objects, {flags.revision, flags.sets, kWeftVersion});
  if (!plan) return printError(plan.error());
  store::LocalStore& store = cluster->store;
  if (plan->controlPlane) {
    if (auto ca = control::checkPluginCa(store, systemClock()); !ca) return printError(ca.error().wrap("the plug-in CA"));
  }
  // A gateway-only install joins a control plane that must already be there.
  if (!plan->controlPlane && !revisionInstalled(store, plan->revision)) {
    return printError(makeError("revision \"{}\" is not installed: install its control plane first (weft install -f FILE --revision {})",
                                plan->revisionLabel(), plan->revisionLabel()));
  }
  // Parts whose program is not built yet are left out, and said so, rather than left to
  // fail as pods that can never start.
  std::vector<model::Object> objects;
  std::set<std::string> skipped;
  for (auto& object : plan->objects) {
    std::string component = object.label(install::kComponentLabel);
    std::string image = firstImage(object);
    if (!image.empty() && !programBuilt(image)) skipped.insert(component);
  }
  // One ztunnel per node serves the whole mesh (as in Istio ambient): a second revision's
  // install keeps the running one rather than replacing it under the first revision.
  std::string keptZtunnel = installedZtunnelRevision(store);
  if (keptZtunnel == plan->revisionLabel()) keptZtunnel.clear();
  for (auto& object : plan->objects) {
    if (skipped.contains(object.label(install::kComponentLabel))) continue;
    if (!keptZtunnel.empty() && object.label(install::kComponentLabel) == "Ztunnel") continue;
    // The local cluster stands in for what Kubernetes would give these pods: weftd reads
    // the store instead of watching the API server; data planes read their node's
    // credential Secret from it (a Secret volume in Kubernetes; gateways borrow it until
    // they have an identity of their own, docs/proxy.md); ztunnel meets the runtime, its
    // node agent, on a socket per node (the CNI agent's socket in Kubernetes).
    const std::string store = cluster->paths.store().string();
    const std::string credential = install::withRevision("weft-node-credential", plan->revision);
    std::string component = object.label(install::kComponentLabel);
    if (object.kind() == "Deployment" && object.name() == install::weftdDeploymentName(plan->revision)) {
      appendEnv(object, {{"WEFT_STORE", store}});
    } else if (object.kind() == "Deployment" && (component == "IngressGateways" || component == "EgressGateways")) {
      appendEnv(object, {{"WEFT_STORE", store}, {"NODE_CREDENTIAL_SECRET", credential}});
    } else if (object.kind() == "DaemonSet" && object.name() == "ztunnel") {
      appendEnv(object, {{"WEFT_STORE", store}, {"NODE_CREDENTIAL_SECRET", credential},
                         {"WEFT_NODE_AGENT_DIR", cluster->paths.nodeAgentDir().string()}});
    }
    objects.push_back(std::move(object));
  }
  std::vector<model::Object> namespaces;
  for (const auto& ns : plan->namespaces) {
    auto existing = store.get({"Namespace", "", ns});
    if (existing && *existing) continue;
    namespaces.emplace_back(model::findKind("v1", "Namespace"),
                            json::object{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", json::object{{"name", ns}}}});
  }
  objects.insert(objects.begin(), namespaces.begin(), namespaces.end());
  if (plan->ztunnel && plan->controlPlane && keptZtunnel.empty() && !skipped.contains("Ztunnel")) {
    auto credentials = nodeCredentials(store, *plan);
    if (!credentials) return printError(credentials.error());
    for (auto& secret : *credentials) objects.push_back(std::move(secret));
  }
  objects.push_back(install::installedState(*plan));
  std::vector<model::ObjectKey> made;
  for (const auto& object : objects) {
    if (object.kind() != "Namespace") made.push_back(object.key());
  }
  if (auto applied = store.apply(std::move(objects)); !applied) return printError(applied.error());
  // A control plane that never gets ready is taken out again: nothing half-installed.
  auto rollBack = [&](const Error& error) {
    if (auto removed = store.remove(made); !removed) fmt::print(stderr, "error: rolling back: {}\n", removed.error().message);
    fmt::print(stderr, "  Rolled back: the objects of this install were removed.\n");
    return printError(error);
  };

  std::map<std::string, std::string> icons{{"Istio core", "⛵"}, {"Istiod", "🧠"}, {"Ztunnel", "🔒"}, {"Ingress gateways", "🛬"},
                                           {"Egress gateways", "🛫"}};
  auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  for (const auto& component : plan->componentNames()) {
    bool notBuilt = (component == "Ztunnel" && skipped.contains("Ztunnel")) ||
                    (component.find("gateways") != std::string::npos &&
                     (skipped.contains("IngressGateways") || skipped.contains("EgressGateways")));
    if (notBuilt) {
      fmt::print("- {}: not installed, not built yet in this version of Weft\n", component);
      continue;
    }
    if (component == "Ztunnel" && !keptZtunnel.empty()) {
      fmt::print("✔ Ztunnel: kept revision {}'s (one ztunnel per node serves every revision) {}\n", keptZtunnel, icons[component]);
      continue;
    }
    if (component == "Ztunnel") {
      while (!ztunnelsReady(store) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
      if (!ztunnelsReady(store)) {
        fmt::print("✘ Ztunnel encountered an error\n");
        return rollBack(makeError("the ztunnels are not ready on every node after {}s{}", kReadyTimeout.count(),
                                  podProblem(store, "istio-system", "ztunnel")));
      }
    }
    if (component == "Istiod") {
      std::string name = install::weftdDeploymentName(plan->revision);
      while (!deploymentReady(store, "istio-system", name) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
      if (!deploymentReady(store, "istio-system", name)) {
        fmt::print("✘ Istiod encountered an error\n");
        return rollBack(makeError("deployment istio-system/{} is not ready after {}s{}", name, kReadyTimeout.count(),
                                  podProblem(store, "istio-system", "istiod")));
      }
    }
    fmt::print("✔ {} installed {}\n", component, icons[component]);
    std::fflush(stdout);
  }
  fmt::print("✔ Installation complete\n");
  return kExitOk;
}

// What an install made carries the managed-by label; the revision label picks one install.
int runUninstall(const InstallFlags& flags) {
  auto cluster = openCluster(flags.store);
  if (!cluster) return printError(cluster.error());
  store::LocalStore& store = cluster->store;
  auto all = store.listAll();
  if (!all) return printError(all.error());
  std::string revision = flags.revision.empty() ? "" : install::revisionLabelValue(flags.revision);
  std::vector<model::ObjectKey> keys;
  for (const auto& object : *all) {
    if (object.label(install::kManagedByLabel) != install::kManagedByValue) continue;
    if (!revision.empty() && object.label(install::kRevisionLabel) != revision) continue;
    keys.push_back(object.key());
  }
  for (const auto& object : *all) {
    bool state = object.kind() == "IstioOperator" && object.name().starts_with("installed-state");
    if (state && (revision.empty() || object.name() == install::installedStateName(flags.revision))) keys.push_back(object.key());
  }
  if (keys.empty()) {
    fmt::print("✔ Nothing to uninstall: no {} found\n", revision.empty() ? "Weft install" : "install of revision " + revision);
    return kExitOk;
  }
  auto removed = store.remove(keys);
  if (!removed) return printError(removed.error());
  for (const auto& object : *removed) {
    fmt::print("  Removed {}:{}:{}.\n", object.kind(), object.ns(), object.name());
  }
  fmt::print("✔ Uninstall complete\n");
  return kExitOk;
}

std::string imageTag(const std::string& image) {
  auto colon = image.rfind(':');
  auto slash = image.rfind('/');
  return colon == std::string::npos || (slash != std::string::npos && colon < slash) ? "unknown" : image.substr(colon + 1);
}

int runVersion(const InstallFlags& flags) {
  fmt::print("client version: {}\n", kWeftVersion);
  auto cluster = openCluster(flags.store);
  if (!cluster) return kExitOk;  // no cluster: the client version is all there is
  auto pods = cluster->store.list("Pod", "");
  if (!pods) return printError(pods.error());
  std::map<std::string, std::set<std::string>> controlPlanes;  // version -> revisions
  std::map<std::string, std::map<std::string, int>> dataPlanes;  // version -> kind -> count
  // Weft's parts are told apart by their images (docker.io/weft/<part>:<version>), which
  // is also where their version is written.
  for (const auto& pod : *pods) {
    if (stringAt(pod.value(), {"status", "phase"}) != "Running") continue;
    const auto& containers = at(pod.value(), {"spec", "containers"});
    if (!containers.is_array() || containers.get_array().empty()) continue;
    std::string image = stringAt(containers.get_array()[0], {"image"});
    if (image.find("weft/") == std::string::npos) continue;
    std::string version = imageTag(image);
    if (image.find("weft/weftd") != std::string::npos) {
      controlPlanes[version].insert(pod.label(install::kRevisionLabel).empty() ? "default" : pod.label(install::kRevisionLabel));
    } else if (image.find("weft/ztunnel") != std::string::npos) {
      dataPlanes[version]["ztunnel"]++;
    } else {
      dataPlanes[version]["proxies"]++;
    }
  }
  if (controlPlanes.empty()) fmt::print("control plane version: none (weft install has not run on cluster {})\n", cluster->config.name);
  for (const auto& [version, revisions] : controlPlanes) {
    std::string list;
    for (const auto& r : revisions) list += (list.empty() ? "" : ", ") + r;
    fmt::print("control plane version: {} (revision {})\n", version, list);
  }
  if (dataPlanes.empty()) fmt::print("data plane version: none\n");
  for (const auto& [version, counts] : dataPlanes) {
    std::string list;
    for (const auto& [kind, count] : counts) list += fmt::format("{}{} {}", list.empty() ? "" : ", ", count, kind == "ztunnel" ? (count == 1 ? "ztunnel" : "ztunnels") : (count == 1 ? "proxy" : "proxies"));
    fmt::print("data plane version: {} ({})\n", version, list);
  }
  return kExitOk;
}

}  // namespace

void addInstallCommands(CLI::App& app, int& exitCode) {
  auto installFlags = std::make_shared<InstallFlags>();
  auto* install = app.add_subcommand("install", "Install Weft's control plane, ztunnels and gateways from IstioOperator files");
  install->add_option("-f,--filename", installFlags->files, "IstioOperator files");
  install->add_option("-r,--revision", installFlags->revision, "Control plane revision");
  install->add_option("-s,--set", installFlags->sets, "Override an IstioOperator value: path=value");
  install->add_flag("-y,--skip-confirmation", installFlags->yes, "Do not ask for confirmation (weft never asks)");
  addStoreOption(install, installFlags->store);
  install->callback([installFlags, &exitCode] { exitCode = runInstall(*installFlags); });

  auto uninstallFlags = std::make_shared<InstallFlags>();
  auto* uninstall = app.add_subcommand("uninstall", "Remove what weft install made (one revision, or all); workloads keep running");
  uninstall->add_option("-r,--revision", uninstallFlags->revision, "Only this revision");
  uninstall->add_flag("--purge", uninstallFlags->purge, "Every revision (the default when no revision is given)");
  uninstall->add_flag("-y,--skip-confirmation", uninstallFlags->yes, "Do not ask for confirmation (weft never asks)");
  addStoreOption(uninstall, uninstallFlags->store);
  uninstall->callback([uninstallFlags, &exitCode] { exitCode = runUninstall(*uninstallFlags); });

  auto versionFlags = std::make_shared<InstallFlags>();
  auto* version = app.add_subcommand("version", "Client, control plane and data plane versions");
  addStoreOption(version, versionFlags->store);
  version->callback([versionFlags, &exitCode] { exitCode = runVersion(*versionFlags); });
}

}  // namespace weft::cli
