#include "localcluster/kubelet.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/time_format.h"
#include "localcluster/cluster_network.h"
#include "localcluster/container_env.h"
#include "localcluster/container_process.h"
#include "localcluster/image_catalog.h"
#include "localcluster/netns.h"
#include "localcluster/tcp_probe.h"
#include "model/json_access.h"

namespace weft::localcluster {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using model::at;
using model::stringAt;

namespace {

// kubelet's crash-loop back-off: the first restart is immediate, then 10 s doubling to
// 5 min; a container that ran 10 minutes starts over.
constexpr auto kFirstBackoff = 10s;
constexpr auto kMaxBackoff = 300s;
constexpr auto kBackoffReset = 600s;
constexpr auto kReadinessInterval = 100ms;
constexpr auto kMaxGrace = 30s;  // longer grace periods are cut: `cluster delete` must not wait minutes

struct Termination {
  int exitCode = 0;
  int signal = 0;
  SystemTime startedAt;
  SystemTime finishedAt;
};

}  // namespace

struct PodContainer {
  std::string name;
  std::string image;
  ContainerCommand command;
  std::vector<std::string> env;
  std::string configError;  // CreateContainerConfigError
  std::vector<int> readinessPorts;  // TCP-checked when the container has no readinessProbe
  std::optional<ReadinessProbe> readinessProbe;
  pid_t pid = 0;
  bool ready = false;
  int restartCount = 0;
  SystemTime startedAt;
  std::optional<Termination> last;
  std::optional<SystemTime> restartAt;
  std::chrono::seconds backoff{0};
  bool done = false;  // exited and the restart policy keeps it down
};

struct Kubelet::Pod {
  model::ObjectKey key;
  std::string uid;
  std::string nodeName;
  std::string restartPolicy;
  bool hostNetwork = false;
  Ipv4Address address;
  Ipv4Address hostAddress;
  std::string netns;
  fs::path dir;
  std::string sandboxError;
  std::vector<PodContainer> containers;
  SystemTime startTime;
  bool wasReady = false;
  SystemTime readyTransition;
  std::chrono::seconds grace{30};
  bool terminating = false;
  SystemTime killAt;

  bool allReady() const {
    return !containers.empty() && std::all_of(containers.begin(), containers.end(), [](const PodContainer& c) { return c.ready; });
  }
};

namespace {

std::vector<int> declaredTcpPorts(const json::value& container) {
  std::vector<int> ports;
  const auto& list = at(container, {"ports"});
  if (!list.is_array()) return ports;
  for (const auto& port : list.get_array()) {
    std::string protocol = stringAt(port, {"protocol"});
    if ((protocol.empty() || protocol == "TCP") && at(port, {"containerPort"}).is_int64()) {
      ports.push_back(static_cast<int>(at(port, {"containerPort"}).get_int64()));
    }
  }
  return ports;
}

void writeInPlace(const fs::path& path, const std::string& contents) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  // One write then a truncate: a reader sees the old or the new names, never an empty file.
  (void)!pwrite(fd, contents.data(), contents.size(), 0);
  (void)!ftruncate(fd, static_cast<off_t>(contents.size()));
  close(fd);
}

json::value termination(const Termination& t) {
  json::object o{{"exitCode", t.exitCode},
                 {"reason", t.exitCode == 0 ? "Completed" : "Error"},
                 {"startedAt", formatRfc3339(t.startedAt)},
                 {"finishedAt", formatRfc3339(t.finishedAt)}};
  if (t.signal != 0) o["signal"] = t.signal;
  return json::object{{"terminated", std::move(o)}};
}

bool shouldRestart(const std::string& policy, int exitCode) {
  return policy == "Always" || policy.empty() || (policy == "OnFailure" && exitCode != 0);
}

}  // namespace

Kubelet::Kubelet(KubeletSettings settings) : settings_(std::move(settings)) {}
Kubelet::~Kubelet() = default;

std::vector<model::ObjectKey> Kubelet::pods() const {
  std::vector<model::ObjectKey> keys;
  for (const auto& [key, pod] : pods_) keys.push_back(key);
  return keys;
}

void Kubelet::syncPod(const model::Object& object, Ipv4Address address, const EnvSourceLookup& lookup) {
  if (pods_.contains(object.key())) return;
  auto pod = std::make_unique<Pod>();
  pod->key = object.key();
  pod->uid = stringAt(object.value(), {"metadata", "uid"});
  pod->nodeName = stringAt(object.value(), {"spec", "nodeName"});
  pod->restartPolicy = stringAt(object.value(), {"spec", "restartPolicy"});
  pod->hostNetwork = at(object.value(), {"spec", "hostNetwork"}) == json::value(true);
  if (const auto& grace = at(object.value(), {"spec", "terminationGracePeriodSeconds"}); grace.is_int64()) {
    pod->grace = std::min(std::chrono::seconds(grace.get_int64()), kMaxGrace);
  }
  for (const auto& node : nodesOf(settings_.cluster)) {
    if (node.name == pod->nodeName) pod->hostAddress = node.address;
  }
  pod->address = pod->hostNetwork ? pod->hostAddress : address;
  pod->netns = pod->hostNetwork ? clusterNetnsName(settings_.cluster.name)
                                : podNetnsName(settings_.cluster.name, object.ns(), object.name());
  pod->dir = settings_.paths.podDir(object.ns(), object.name(), pod->uid);
  pod->startTime = settings_.clock();
  std::error_code ec;
  fs::create_directories(pod->dir, ec);
  writeInPlace(pod->dir / "hosts", "127.0.0.1\tlocalhost\n");
  if (!pod->hostNetwork) {
    if (auto status = createPodSandbox(settings_.cluster, {pod->netns, pod->address}); !status) {
      pod->sandboxError = status.error().message;
      spdlog::error("pod {}/{}: {}", object.ns(), object.name(), pod->sandboxError);
    } else {
      // `ip netns exec <pod namespace> ...` then sees the pod's names too.
      fs::create_directories(netnsEtcDir(pod->netns), ec);
      fs::create_symlink(pod->dir / "hosts", fs::path(netnsEtcDir(pod->netns)) / "hosts", ec);
    }
  }
  PodFacts facts{pod->address.str(), pod->hostAddress.str(), pod->hostNetwork ? pod->nodeName : object.name()};
  const auto& containers = at(object.value(), {"spec", "containers"});
  for (const auto& spec : containers.is_array() ? containers.get_array() : json::array()) {
    PodContainer c;
    c.name = stringAt(spec, {"name"});
    c.image = stringAt(spec, {"image"});
    c.command = resolveContainerCommand(spec, settings_.programDir);
    c.readinessPorts = declaredTcpPorts(spec);
    c.readinessProbe = readinessProbeOf(spec);
    if (auto env = containerEnv(object, spec, facts, lookup)) {
      c.env = std::move(*env);
      // What a hostPath mount of /var/run/ztunnel gives ztunnel on Kubernetes: where the
      // node agent's socket is. Only host-network pods can be a node's ztunnel.
      bool set = std::any_of(c.env.begin(), c.env.end(), [](const std::string& e) { return e.starts_with("WEFT_NODE_AGENT_DIR="); });
      if (pod->hostNetwork && !set) c.env.push_back("WEFT_NODE_AGENT_DIR=" + settings_.paths.nodeAgentDir().string());
    } else {
      c.configError = env.error().message;
    }
    if (!c.command.runnable()) spdlog::warn("pod {}/{} container {}: {}", object.ns(), object.name(), c.name, c.command.message);
    pod->containers.push_back(std::move(c));
  }
  Pod& ref = *pod;
  pods_[object.key()] = std::move(pod);
  if (!ref.sandboxError.empty()) return;
  for (size_t i = 0; i < ref.containers.size(); ++i) {
    if (ref.containers[i].command.runnable() && ref.containers[i].configError.empty()) startContainer(ref, i);
  }
}

void Kubelet::startContainer(Pod& pod, size_t index) {
  PodContainer& c = pod.containers[index];
  fs::path logDir = pod.dir / c.name;
  std::error_code ec;
  fs::create_directories(logDir, ec);
  ProcessSpec spec{c.command.argv,
                   c.env,
                   pod.netns,
                   pod.hostNetwork ? pod.nodeName : pod.key.name,
                   pod.dir / "hosts",
                   logDir / fmt::format("{}.log", c.restartCount),
                   pod.dir};
  c.restartAt.reset();
  c.startedAt = settings_.clock();
  auto pid = startProcess(spec);
  if (!pid) {
    spdlog::error("pod {}/{} container {}: {}", pod.key.ns, pod.key.name, c.name, pid.error().message);
    c.last = Termination{128, 0, c.startedAt, c.startedAt};
    c.restartAt = settings_.clock() + c.backoff;
    c.backoff = c.backoff == 0s ? kFirstBackoff : std::min(c.backoff * 2, kMaxBackoff);
    return;
  }
  c.pid = *pid;
  c.ready = false;
  byPid_[*pid] = {pod.key, index};
  spdlog::info("pod {}/{} container {} started (pid {}, restart {})", pod.key.ns, pod.key.name, c.name, *pid, c.restartCount);
}

void Kubelet::processExited(pid_t pid, int waitStatus) {
  auto found = byPid_.find(pid);
  if (found == byPid_.end()) return;
  auto [key, index] = found->second;
  byPid_.erase(found);
  auto podIt = pods_.find(key);
  if (podIt == pods_.end()) return;
  Pod& pod = *podIt->second;
  PodContainer& c = pod.containers[index];
  SystemTime now = settings_.clock();
  Termination t{0, 0, c.startedAt, now};
  if (WIFEXITED(waitStatus)) {
    t.exitCode = WEXITSTATUS(waitStatus);
  } else if (WIFSIGNALED(waitStatus)) {
    t.signal = WTERMSIG(waitStatus);
    t.exitCode = 128 + t.signal;
  }
  c.pid = 0;
  c.ready = false;
  c.last = t;
  spdlog::info("pod {}/{} container {} exited with {}", key.ns, key.name, c.name, t.exitCode);
  if (pod.terminating) {
    bool anyRunning = std::any_of(pod.containers.begin(), pod.containers.end(), [](const PodContainer& x) { return x.pid != 0; });
    if (!anyRunning) finishTermination(pod);
    return;
  }
  if (!shouldRestart(pod.restartPolicy, t.exitCode)) {
    c.done = true;
    return;
  }
  if (now - c.startedAt >= kBackoffReset) c.backoff = 0s;
  c.restartAt = now + c.backoff;
  c.backoff = c.backoff == 0s ? kFirstBackoff : std::min(c.backoff * 2, kMaxBackoff);
}

void Kubelet::stopPod(const model::ObjectKey& key) {
  auto found = pods_.find(key);
  if (found == pods_.end() || found->second->terminating) return;
  Pod& pod = *found->second;
  pod.terminating = true;
  pod.killAt = settings_.clock() + pod.grace;
  bool anyRunning = false;
  for (auto& c : pod.containers) {
    c.restartAt.reset();
    if (c.pid != 0) {
      kill(-c.pid, SIGTERM);  // the container's process group
      anyRunning = true;
    }
  }
  if (!anyRunning) finishTermination(pod);
}

void Kubelet::finishTermination(Pod& pod) {
  for (auto& c : pod.containers) {
    if (c.pid != 0) {
      kill(-c.pid, SIGKILL);
      byPid_.erase(c.pid);
    }
  }
  if (!pod.hostNetwork) {
    // Anything still inside (a `weft exec` session) would keep the namespace alive.
    if (auto inode = netnsInode(pod.netns)) {
      for (pid_t pid : processesInNetns(*inode)) kill(pid, SIGKILL);
    }
    if (auto status = deletePodSandbox({pod.netns, pod.address}); !status) {
      spdlog::error("pod {}/{}: {}", pod.key.ns, pod.key.name, status.error().message);
    }
  }
  std::error_code ec;
  fs::remove_all(pod.dir, ec);
  spdlog::info("pod {}/{} removed", pod.key.ns, pod.key.name);
  pods_.erase(pod.key);  // `pod` is gone after this line
}

bool Kubelet::checkReadiness(Pod& pod) {
  bool changed = false;
  for (auto& c : pod.containers) {
    if (c.pid == 0 || c.ready) continue;
    bool ready = c.readinessProbe ? probeSucceeds(*c.readinessProbe, pod.address.str(), pod.key.name, 1000ms)
                                  : std::all_of(c.readinessPorts.begin(), c.readinessPorts.end(),
                                                [&](int port) { return tcpAccepts(pod.address.str(), port, 50ms); });
    if (ready) {
      c.ready = true;
      changed = true;
    }
  }
  bool allReady = pod.allReady();
  if (allReady != pod.wasReady) {
    pod.wasReady = allReady;
    pod.readyTransition = settings_.clock();
  }
  return changed;
}

bool Kubelet::tick() {
  SystemTime now = settings_.clock();
  bool changed = false;
  std::vector<Pod*> expired;
  for (auto& [key, pod] : pods_) {
    if (pod->terminating) {
      if (now >= pod->killAt) expired.push_back(pod.get());
      continue;
    }
    for (size_t i = 0; i < pod->containers.size(); ++i) {
      PodContainer& c = pod->containers[i];
      if (c.restartAt && *c.restartAt <= now) {
        ++c.restartCount;
        startContainer(*pod, i);
        changed = true;
      }
    }
    changed = checkReadiness(*pod) || changed;
  }
  for (Pod* pod : expired) finishTermination(*pod);
  return changed || !expired.empty();
}

std::optional<SystemTime> Kubelet::nextWake() const {
  std::optional<SystemTime> wake;
  auto consider = [&](SystemTime t) {
    if (!wake || t < *wake) wake = t;
  };
  SystemTime now = settings_.clock();
  for (const auto& [key, pod] : pods_) {
    if (pod->terminating) consider(pod->killAt);
    for (const auto& c : pod->containers) {
      if (c.restartAt) consider(*c.restartAt);
      if (c.pid != 0 && !c.ready) consider(now + kReadinessInterval);
    }
  }
  return wake;
}

void Kubelet::updateHosts(const model::ObjectKey& key, const std::string& contents) {
  auto found = pods_.find(key);
  if (found != pods_.end()) writeInPlace(found->second->dir / "hosts", contents);
}

std::optional<std::string> Kubelet::podAddress(const model::ObjectKey& key) const {
  auto found = pods_.find(key);
  if (found == pods_.end()) return std::nullopt;
  return found->second->address.str();
}

void Kubelet::killAll() {
  std::vector<Pod*> all;
  for (auto& [key, pod] : pods_) all.push_back(pod.get());
  for (Pod* pod : all) finishTermination(*pod);
  byPid_.clear();
}

std::optional<json::value> Kubelet::status(const model::ObjectKey& key) const {
  auto found = pods_.find(key);
  if (found == pods_.end()) return std::nullopt;
  const Pod& pod = *found->second;
  SystemTime now = settings_.clock();
  json::array statuses;
  bool anyRunning = false, anyWillRun = false, allDone = !pod.containers.empty(), allSucceeded = true;
  for (const auto& c : pod.containers) {
    json::object s{{"name", c.name}, {"image", c.image}, {"imageID", ""}, {"ready", c.ready}, {"restartCount", c.restartCount},
                   {"started", c.pid != 0}};
    if (c.pid != 0) s["containerID"] = fmt::format("weft://{}", c.pid);
    json::object state;
    if (!pod.sandboxError.empty()) {
      state["waiting"] = json::object{{"reason", "ContainerCreating"}, {"message", pod.sandboxError}};
    } else if (!c.command.runnable()) {
      state["waiting"] = json::object{{"reason", c.command.reason}, {"message", c.command.message}};
    } else if (!c.configError.empty()) {
      state["waiting"] = json::object{{"reason", "CreateContainerConfigError"}, {"message", c.configError}};
    } else if (c.pid != 0) {
      state["running"] = json::object{{"startedAt", formatRfc3339(c.startedAt)}};
      anyRunning = true;
    } else if (c.restartAt && *c.restartAt > now) {
      state["waiting"] = json::object{
          {"reason", "CrashLoopBackOff"},
          {"message", fmt::format("back-off {}s restarting failed container={} pod={}_{}({})",
                                  std::chrono::duration_cast<std::chrono::seconds>(*c.restartAt - c.last->finishedAt).count(), c.name,
                                  pod.key.name, pod.key.ns, pod.uid)}};
      anyWillRun = true;
    } else if (c.last) {
      state = termination(*c.last).get_object();
      anyWillRun = anyWillRun || !c.done;
    }
    if (c.last && (c.pid != 0 || !c.done)) s["lastState"] = termination(*c.last);
    s["state"] = std::move(state);
    allDone = allDone && c.done;
    allSucceeded = allSucceeded && c.last && c.last->exitCode == 0;
    statuses.push_back(std::move(s));
  }
  std::string phase = "Pending";
  if (allDone) {
    phase = allSucceeded ? "Succeeded" : "Failed";
  } else if (anyRunning || anyWillRun) {
    phase = "Running";
  }
  std::string started = formatRfc3339(pod.startTime);
  auto condition = [&](const char* type, bool value, SystemTime since) {
    return json::object{{"type", type}, {"status", value ? "True" : "False"}, {"lastTransitionTime", formatRfc3339(since)}};
  };
  bool ready = pod.allReady();
  SystemTime readySince = pod.readyTransition == SystemTime{} ? pod.startTime : pod.readyTransition;
  json::object status{{"phase", phase},
                      {"conditions", json::array{condition("PodScheduled", true, pod.startTime),
                                                 condition("Initialized", true, pod.startTime),
                                                 condition("ContainersReady", ready, readySince),
                                                 condition("Ready", ready, readySince)}},
                      {"hostIP", pod.hostAddress.str()},
                      {"hostIPs", json::array{json::object{{"ip", pod.hostAddress.str()}}}},
                      {"startTime", started},
                      {"qosClass", "BestEffort"},
                      {"containerStatuses", std::move(statuses)}};
  if (pod.sandboxError.empty()) {
    status["podIP"] = pod.address.str();
    status["podIPs"] = json::array{json::object{{"ip", pod.address.str()}}};
  }
  return json::value(std::move(status));
}

}  // namespace weft::localcluster
