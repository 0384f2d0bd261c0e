#include "localcluster/reconciler.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "base/base64.h"
#include "base/subprocess.h"
#include "base/time_format.h"
#include "localcluster/service_proxy.h"
#include "localcluster/workload_controller.h"
#include "model/json_access.h"

namespace weft::localcluster {

namespace json = boost::json;
using model::at;
using model::Object;
using model::ObjectKey;
using model::stringAt;

namespace {

constexpr const char* kManagedBy = "weft.dev/managed-by";
constexpr const char* kRuntimeName = "local-runtime";

const model::KindInfo& coreKind(std::string_view kind) { return *model::findKind("v1", kind); }

std::optional<std::string> mapValue(const json::value& map, const std::string& key) {
  const auto& value = at(map, {key});
  if (!value.is_string()) return std::nullopt;
  return std::string(value.get_string());
}

}  // namespace

Reconciler::Reconciler(store::LocalStore& store, KubeletSettings settings)
    : store_(store),
      settings_(settings),
      nodes_(nodesOf(settings.cluster)),
      kubelet_(settings),
      nodeAgents_(settings.cluster, settings.paths) {}

bool Reconciler::ownsNode(const std::string& node) const {
  return std::any_of(nodes_.begin(), nodes_.end(), [&](const NodeInfo& n) { return n.name == node; });
}

Status Reconciler::registerNodes() {
  std::vector<Object> nodes;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const auto& node = nodes_[i];
    json::object labels{{"kubernetes.io/hostname", node.name}, {"kubernetes.io/os", "linux"}, {"kubernetes.io/arch", "amd64"}};
    if (i == 0) labels["node-role.kubernetes.io/control-plane"] = "";
    json::object value{
        {"apiVersion", "v1"},
        {"kind", "Node"},
        {"metadata", json::object{{"name", node.name}, {"labels", std::move(labels)}}},
        {"spec", json::object{{"podCIDR", node.podSlice.str()}, {"podCIDRs", json::array{node.podSlice.str()}}}},
        {"status", json::object{{"addresses", json::array{json::object{{"type", "InternalIP"}, {"address", node.address.str()}},
                                                          json::object{{"type", "Hostname"}, {"address", node.name}}}},
                                {"conditions", json::array{json::object{{"type", "Ready"},
                                                                        {"status", "True"},
                                                                        {"reason", "KubeletReady"},
                                                                        {"message", "weft local runtime is posting ready status"}}}},
                                {"nodeInfo", json::object{{"kubeletVersion", "weft-local"},
                                                          {"containerRuntimeVersion", "weft-local://processes"},
                                                          {"operatingSystem", "linux"},
                                                          {"architecture", "amd64"}}}}}};
    nodes.emplace_back(&coreKind("Node"), std::move(value));
  }
  auto applied = store_.apply(std::move(nodes));
  if (!applied) return applied.error();
  for (const auto& a : *applied) cache_.put(a.object);
  return {};
}

void Reconciler::adoptExistingRules() {
  auto saved = runCommand({"iptables-save", "-t", "nat"});
  if (saved && saved->exitCode == 0) liveChains_ = chainsInSave(saved->output);
}

void Reconciler::reconcile() {
  runWorkloadControllers();
  schedulePods();
  // Before kubelet stops anything: when the mesh is uninstalled, pods are released from
  // capture while their ztunnel still accepts, so their traffic never hits a closed port.
  syncNodeAgents();
  syncKubelet();
  writePodStatuses();
  allocateClusterIps();
  allocateNodePorts();
  syncEndpoints();
  syncServiceRules();
  syncHostPorts();
  syncHosts();
  writeWorkloadStatuses();
  syncNodeAgents();
}

void Reconciler::writeField(const ObjectKey& key, std::string_view field, const json::value& value) {
  auto updated = store_.update(key, [&](json::value& object) -> Status {
    object.as_object()[field] = value;
    return {};
  });
  if (updated) {
    cache_.put(updated->object);
  } else {
    spdlog::debug("{} {}/{}: {}", key.kind, key.ns, key.name, updated.error().message);
  }
}

void Reconciler::runWorkloadControllers() {
  auto deployments = cache_.list("Deployment.apps");
  auto daemonSets = cache_.list("DaemonSet.apps");
  auto pods = cache_.list("Pod");
  auto changes = planWorkloads({&deployments, &daemonSets, &pods, nodes_}, [this] { return randomNameSuffix(random_); });
  for (auto& value : changes.create) {
    auto created = store_.create(Object(&coreKind("Pod"), std::move(value)));
    if (created) {
      cache_.put(created->object);
      spdlog::info("pod {}/{} created on {}", created->object.ns(), created->object.name(),
                   stringAt(created->object.value(), {"spec", "nodeName"}));
    } else {
      spdlog::error("creating a pod: {}", created.error().message);
    }
  }
  for (const auto& key : changes.remove) {
    if (auto removed = store_.remove({key}); !removed) spdlog::debug("deleting pod {}/{}: {}", key.ns, key.name, removed.error().message);
    cache_.erase(key);
  }
}

void Reconciler::schedulePods() {
  auto pods = cache_.list("Pod");
  std::vector<json::value> placed;
  for (const auto& pod : pods) {
    if (!stringAt(pod.value(), {"spec", "nodeName"}).empty()) continue;
    std::string node = pickNode(nodes_, pods, placed);
    json::value spec = at(pod.value(), {"spec"});
    spec.as_object()["nodeName"] = node;
    placed.push_back(json::object{{"spec", json::object{{"nodeName", node}}}});
    writeField(pod.key(), "spec", spec);
  }
}

std::optional<Ipv4Address> Reconciler::allocatePodAddress(const std::string& nodeName) {
  const NodeInfo* node = nullptr;
  for (const auto& n : nodes_) {
    if (n.name == nodeName) node = &n;
  }
  if (node == nullptr) return std::nullopt;
  std::set<uint32_t> used;
  for (const auto& [key, address] : addresses_) used.insert(address.value);
  for (uint64_t offset = 2; offset + 1 < node->podSlice.size(); ++offset) {
    Ipv4Address candidate = node->podSlice.at(offset);
    if (!used.contains(candidate.value)) return candidate;
  }
  return std::nullopt;
}

void Reconciler::syncKubelet() {
  auto pods = cache_.list("Pod");
  std::set<ObjectKey> present;
  auto lookup = [this](const std::string& kind, const std::string& ns, const std::string& name,
                       const std::string& key) -> std::optional<std::string> {
    const Object* source = cache_.get({kind, ns, name});
    if (source == nullptr) return std::nullopt;
    if (kind == "ConfigMap") return mapValue(at(source->value(), {"data"}), key);
    if (auto plain = mapValue(at(source->value(), {"stringData"}), key)) return plain;
    auto encoded = mapValue(at(source->value(), {"data"}), key);
    if (!encoded) return std::nullopt;
    auto decoded = base64Decode(*encoded);
    return decoded ? std::optional<std::string>(*decoded) : std::nullopt;
  };
  for (const auto& pod : pods) {
    std::string node = stringAt(pod.value(), {"spec", "nodeName"});
    if (!ownsNode(node)) continue;
    present.insert(pod.key());
    if (kubelet_.knows(pod.key())) continue;
    bool hostNetwork = at(pod.value(), {"spec", "hostNetwork"}) == json::value(true);
    Ipv4Address address;
    if (!hostNetwork) {
      auto allocated = allocatePodAddress(node);
      if (!allocated) {
        spdlog::error("pod {}/{}: node {} has no free pod address", pod.ns(), pod.name(), node);
        continue;
      }
      address = *allocated;
      addresses_[pod.key()] = address;
    }
    kubelet_.syncPod(pod, address, lookup);
  }
  for (const auto& key : kubelet_.pods()) {
    if (!present.contains(key)) kubelet_.stopPod(key);
  }
  // Addresses return to the pool once the kubelet has torn the sandbox down.
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    it = kubelet_.knows(it->first) ? std::next(it) : addresses_.erase(it);
  }
  for (auto it = hostsWritten_.begin(); it != hostsWritten_.end();) {
    it = kubelet_.knows(it->first) ? std::next(it) : hostsWritten_.erase(it);
  }
}

void Reconciler::writePodStatuses() {
  for (const auto& key : kubelet_.pods()) {
    const Object* pod = cache_.get(key);
    if (pod == nullptr) continue;
    auto status = kubelet_.status(key);
    if (status && *status != at(pod->value(), {"status"})) writeField(key, "status", *status);
  }
}

void Reconciler::allocateClusterIps() {
  auto services = cache_.list("Service");
  std::set<uint32_t> used;
  for (const auto& service : services) {
    if (auto ip = Ipv4Address::parse(stringAt(service.value(), {"spec", "clusterIP"}))) used.insert(ip->value);
  }
  for (const auto& service : services) {
    const auto& spec = at(service.value(), {"spec"});
    if (!stringAt(spec, {"clusterIP"}).empty() || stringAt(spec, {"type"}) == "ExternalName") continue;
    auto ip = allocateClusterIp(settings_.cluster.serviceCidr, service.ns(), service.name(), used);
    if (!ip) {
      spdlog::error("service {}/{}: the Service range {} is full", service.ns(), service.name(), settings_.cluster.serviceCidr.str());
      continue;
    }
    used.insert(ip->value);
    json::value updated = spec.is_object() ? spec : json::object();
    updated.as_object()["clusterIP"] = ip->str();
    updated.as_object()["clusterIPs"] = json::array{ip->str()};
    writeField(service.key(), "spec", updated);
  }
}

void Reconciler::allocateNodePorts() {
  auto services = cache_.list("Service");
  nodePorts_ = localcluster::allocateNodePorts(services, nodePorts_.assigned);
  // The API server would have refused these at apply time; the runtime can only say so
  // here, once per distinct complaint.
  std::set<std::string> refused(nodePorts_.refused.begin(), nodePorts_.refused.end());
  for (const auto& message : refused) {
    if (!refusedLogged_.contains(message)) spdlog::error("{}; the port is not exposed", message);
  }
  refusedLogged_ = std::move(refused);
  for (const auto& service : services) {
    json::value spec = specWithNodePorts(service, nodePorts_);
    if (spec != at(service.value(), {"spec"})) writeField(service.key(), "spec", spec);
    json::value balancer = loadBalancerStatus(service);
    const auto& written = at(service.value(), {"status", "loadBalancer"});
    bool same = balancer == written || (written.is_null() && balancer.get_object().empty());
    if (!same) {
      const Object* current = cache_.get(service.key());
      json::value status = current != nullptr && at(current->value(), {"status"}).is_object() ? at(current->value(), {"status"}) : json::object();
      status.as_object()["loadBalancer"] = std::move(balancer);
      writeField(service.key(), "status", status);
    }
  }
}

void Reconciler::syncEndpoints() {
  auto services = cache_.list("Service");
  auto pods = cache_.list("Pod");
  std::set<ObjectKey> wanted;
  std::vector<Object> changed;
  for (const auto& service : services) {
    const auto& selector = at(service.value(), {"spec", "selector"});
    if (!selector.is_object() || selector.get_object().empty()) continue;  // Endpoints of such a Service are the user's
    json::value desired = endpointsFor(service, pods);
    desired.as_object()["metadata"].as_object()["annotations"] = json::object{{kManagedBy, kRuntimeName}};
    ObjectKey key{"Endpoints", service.ns(), service.name()};
    wanted.insert(key);
    const Object* current = cache_.get(key);
    if (current != nullptr && at(current->value(), {"subsets"}) == at(desired, {"subsets"}) &&
        at(current->value(), {"metadata", "labels"}) == at(desired, {"metadata", "labels"})) {
      continue;
    }
    changed.emplace_back(&coreKind("Endpoints"), std::move(desired));
  }
  if (!changed.empty()) {
    auto applied = store_.apply(std::move(changed));
    if (applied) {
      for (const auto& a : *applied) cache_.put(a.object);
    } else {
      spdlog::error("writing Endpoints: {}", applied.error().message);
    }
  }
  for (const auto& endpoints : cache_.list("Endpoints")) {
    if (wanted.contains(endpoints.key()) || stringAt(endpoints.value(), {"metadata", "annotations", kManagedBy}) != kRuntimeName) continue;
    (void)store_.remove({endpoints.key()});
    cache_.erase(endpoints.key());
  }
}

void Reconciler::syncServiceRules() {
  auto rules = servicePortRules(cache_.list("Service"), cache_.list("Endpoints"));
  std::string wanted = renderServiceRules(rules, {});
  std::set<std::string> current = serviceChains(rules);
  bool stale = std::any_of(liveChains_.begin(), liveChains_.end(), [&](const std::string& c) { return !current.contains(c); });
  if (wanted == appliedRules_ && !stale) return;
  std::string input = renderServiceRules(rules, liveChains_);
  if (auto status = runChecked({"iptables-restore", "--noflush"}, input); !status) {
    spdlog::error("programming Service rules: {}", status.error().message);
    return;
  }
  appliedRules_ = wanted;
  liveChains_ = current;
  spdlog::info("Service rules programmed: {} ports", rules.size());
}

void Reconciler::syncHostPorts() {
  if (hostPorts_ == nullptr) return;
  std::vector<HostPortTarget> targets;
  for (const auto& a : nodePorts_.assigned) {
    const Object* service = cache_.get({"Service", a.ns, a.name});
    if (service == nullptr || a.protocol != "TCP") continue;  // the host side relays TCP only
    auto clusterIp = Ipv4Address::parse(stringAt(service->value(), {"spec", "clusterIP"}));
    if (!clusterIp) continue;  // headless or not yet allocated
    targets.push_back({a.nodePort, *clusterIp, a.port, fmt::format("{}/{}:{}", a.ns, a.name, a.port)});
  }
  hostPorts_->sync(targets);
}

void Reconciler::syncHosts() {
  auto services = cache_.list("Service");
  auto endpoints = cache_.list("Endpoints");
  std::map<std::string, std::vector<HostEntry>> byNamespace;
  for (const auto& key : kubelet_.pods()) {
    const Object* pod = cache_.get(key);
    auto address = kubelet_.podAddress(key);
    if (pod == nullptr || !address) continue;
    if (!byNamespace.contains(key.ns)) byNamespace[key.ns] = serviceHostEntries(services, endpoints, key.ns);
    bool hostNetwork = at(pod->value(), {"spec", "hostNetwork"}) == json::value(true);
    std::string name = hostNetwork ? stringAt(pod->value(), {"spec", "nodeName"}) : key.name;
    std::string contents = renderHostsFile(*address, name, byNamespace[key.ns]);
    auto& written = hostsWritten_[key];
    if (written == contents) continue;
    kubelet_.updateHosts(key, contents);
    written = std::move(contents);
  }
}

// Last: enrollment reads the pod addresses the status write above just published.
void Reconciler::syncNodeAgents() {
  PodSandboxes sandboxes;
  for (const auto& key : kubelet_.pods()) {
    const Object* pod = cache_.get(key);
    if (pod == nullptr || at(pod->value(), {"spec", "hostNetwork"}) == json::value(true)) continue;
    if (auto address = kubelet_.podAddress(key)) sandboxes[key] = *address;
  }
  bool ztunnelInstalled = false;
  for (const auto& ds : cache_.list("DaemonSet.apps")) ztunnelInstalled = ztunnelInstalled || (ds.ns() == "istio-system" && ds.name() == "ztunnel");
  nodeAgents_.sync(cache_.list("Pod"), cache_.list("Namespace"), std::move(sandboxes), ztunnelInstalled);
}

void Reconciler::writeWorkloadStatuses() {
  auto pods = cache_.list("Pod");
  std::string now = formatRfc3339(std::chrono::system_clock::now());
  for (const auto& deployment : cache_.list("Deployment.apps")) {
    json::value status = deploymentStatus(deployment, pods, now);
    if (status != at(deployment.value(), {"status"})) writeField(deployment.key(), "status", status);
  }
  for (const auto& daemonSet : cache_.list("DaemonSet.apps")) {
    json::value status = daemonSetStatus(daemonSet, pods, nodes_.size());
    if (status != at(daemonSet.value(), {"status"})) writeField(daemonSet.key(), "status", status);
  }
}

}  // namespace weft::localcluster
