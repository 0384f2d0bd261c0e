#include "localcluster/cluster_lifecycle.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <thread>

#include "base/file_io.h"
#include "base/k8s_names.h"
#include "base/subprocess.h"
#include "base/time_format.h"
#include "localcluster/cluster_network.h"
#include "localcluster/netns.h"
#include "model/kinds.h"
#include "store/local_store.h"

namespace weft::localcluster {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr auto kReadyTimeout = 20s;
constexpr auto kStopGrace = 2s;

Status requireTools() {
  for (const char* tool : {"ip", "iptables-restore", "iptables-save"}) {
    if (findInPath(tool).empty()) {
      return makeError("{} not found in PATH: install the {} package (scripts/bootstrap.sh does)", tool,
                       std::string_view(tool) == "ip" ? "iproute2" : "iptables");
    }
  }
  return {};
}

// A zombie has exited; it only waits for a parent that may never reap it (a dead runtime's
// children are reparented to whatever init this host has).
bool processAlive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  auto stat = readFile(fmt::format("/proc/{}/stat", pid));
  if (!stat) return false;
  auto close = stat->rfind(')');
  return close == std::string::npos || close + 2 >= stat->size() || (*stat)[close + 2] != 'Z';
}

// Signals every pid, waits up to the grace for them to go, then kills what is left.
void stopProcesses(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids) kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  while (std::chrono::steady_clock::now() < deadline) {
    bool any = false;
    for (pid_t pid : pids) {
      // Reap when it is our child (a runtime started by this very process).
      waitpid(pid, nullptr, WNOHANG);
      any = any || processAlive(pid);
    }
    if (!any) return;
    std::this_thread::sleep_for(20ms);
  }
  for (pid_t pid : pids) kill(pid, SIGKILL);
}

pid_t readPid(const fs::path& file) {
  auto text = readFile(file);
  if (!text) return 0;
  pid_t pid = 0;
  std::from_chars(text->data(), text->data() + text->size(), pid);
  return pid;
}

Result<pid_t> spawnRuntime(const fs::path& home, const std::string& name, const fs::path& weftBinary) {
  auto paths = clusterPaths(home, name);
  int log = open(paths.runtimeLog().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log < 0) return makeError("{}: {}", paths.runtimeLog().string(), std::strerror(errno));
  std::string binary = weftBinary.string();
  std::string homeVar = "WEFT_HOME=" + home.string();
  pid_t pid = fork();
  if (pid < 0) {
    close(log);
    return makeError("fork: {}", std::strerror(errno));
  }
  if (pid == 0) {
    setsid();
    int devNull = open("/dev/null", O_RDONLY);
    dup2(devNull, 0);
    dup2(log, 1);
    dup2(log, 2);
    putenv(homeVar.data());
    execl(binary.c_str(), "weft", "cluster", "runtime", "--name", name.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(log);
  return pid;
}

std::string tail(const fs::path& file, size_t lines) {
  auto text = readFile(file);
  if (!text) return {};
  std::string s = *text;
  size_t pos = s.size();
  for (size_t i = 0; i <= lines && pos != std::string::npos && pos > 0; ++i) pos = s.rfind('\n', pos - 1);
  return pos == std::string::npos ? s : s.substr(pos + 1);
}

Status waitUntilReady(const fs::path& home, const std::string& name, pid_t pid) {
  auto paths = clusterPaths(home, name);
  auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    if (fs::exists(paths.runtimeReady(), ec)) return {};
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return makeError("the cluster runtime exited during start-up; its log ends:\n{}", tail(paths.runtimeLog(), 10));
    }
    std::this_thread::sleep_for(20ms);
  }
  return makeError("the cluster runtime did not become ready in {}s; its log ends:\n{}", kReadyTimeout.count(),
                   tail(paths.runtimeLog(), 10));
}

Status makeCluster(const fs::path& home, const ClusterConfig& config, const fs::path& weftBinary, const Progress& progress) {
  auto paths = clusterPaths(home, config.name);
  WEFT_TRY(writeFileAtomically(paths.config(), config.toJson()));
  std::string nodeNames;
  for (const auto& node : nodesOf(config)) nodeNames += (nodeNames.empty() ? "" : ", ") + node.name;
  WEFT_TRY(createClusterNetwork(config));
  progress(fmt::format("Network namespace {} (bridge {}, pods {}, services {})", clusterNetnsName(config.name), kBridgeName,
                       config.podCidr.str(), config.serviceCidr.str()));
  auto store = store::LocalStore::open(paths.store());
  if (!store) return store.error();
  // Istio's namespace exists from the start, so the plug-in CA secret can be created
  // before `weft install`, as the walkthrough does.
  boost::json::value ns = boost::json::object{{"apiVersion", "v1"}, {"kind", "Namespace"},
                                              {"metadata", boost::json::object{{"name", "istio-system"}}}};
  auto applied = store->apply({model::Object(model::findKind("v1", "Namespace"), std::move(ns))});
  if (!applied) return applied.error();
  auto pid = spawnRuntime(home, config.name, weftBinary);
  if (!pid) return pid.error();
  WEFT_TRY(waitUntilReady(home, config.name, *pid));
  progress(fmt::format("Nodes {} (runtime pid {})", nodeNames, *pid));
  return {};
}

}  // namespace

Status requireRoot(std::string_view what) {
  if (geteuid() != 0) {
    return makeError("{} must run as root: local clusters are made of network namespaces, veths and iptables rules", what);
  }
  return {};
}

pid_t runningRuntime(const fs::path& home, const std::string& name) {
  pid_t pid = readPid(clusterPaths(home, name).runtimePid());
  if (!processAlive(pid)) return 0;
  // The pid file could be stale and the number reused: the runtime lives in the cluster's namespace.
  auto inode = netnsInode(clusterNetnsName(name));
  struct stat st{};
  if (!inode || stat(fmt::format("/proc/{}/ns/net", pid).c_str(), &st) != 0 || st.st_ino != *inode) return 0;
  return pid;
}

Status createCluster(const fs::path& home, const ClusterConfig& config, const fs::path& weftBinary, const Progress& progress) {
  WEFT_TRY(requireRoot("weft cluster create"));
  WEFT_TRY(requireTools());
  auto others = listClusters(home);
  if (!others) return others.error();
  std::error_code ec;
  if (fs::exists(clusterPaths(home, config.name).root, ec)) {
    return makeError("cluster \"{}\" already exists (weft cluster delete --name {} removes it)", config.name, config.name);
  }
  WEFT_TRY(checkNewCluster(config, *others));
  if (netnsExists(clusterNetnsName(config.name))) {
    return makeError("network namespace {} already exists: another Weft home has a cluster named \"{}\"", clusterNetnsName(config.name),
                     config.name);
  }
  progress(fmt::format("Creating cluster \"{}\" ...", config.name));
  if (auto status = makeCluster(home, config, weftBinary, progress); !status) {
    (void)deleteCluster(home, config.name, [](const std::string&) {});
    return status;
  }
  return setCurrentCluster(home, config.name);
}

Status deleteCluster(const fs::path& home, const std::string& name, const Progress& progress) {
  WEFT_TRY(requireRoot("weft cluster delete"));
  if (auto problem = checkDns1123Label(name)) return makeError("invalid cluster name \"{}\": {}", name, *problem);
  progress(fmt::format("Deleting cluster \"{}\" ...", name));
  auto paths = clusterPaths(home, name);
  // The runtime first, so it does not restart what is being stopped.
  if (pid_t runtime = runningRuntime(home, name)) stopProcesses({runtime});
  std::vector<std::string> namespaces;
  for (const auto& netns : listNetns()) {
    if (netnsBelongsTo(netns, name)) namespaces.push_back(netns);
  }
  std::vector<pid_t> processes;
  for (const auto& netns : namespaces) {
    if (auto inode = netnsInode(netns)) {
      auto inside = processesInNetns(*inode);
      processes.insert(processes.end(), inside.begin(), inside.end());
    }
  }
  stopProcesses(processes);
  Status result;
  for (const auto& netns : namespaces) {
    if (auto status = deleteNetns(netns); !status && result) result = status;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/etc/netns", ec)) {
    if (netnsBelongsTo(entry.path().filename().string(), name)) fs::remove_all(entry.path(), ec);
  }
  fs::remove_all(paths.root, ec);
  if (ec) return makeError("{}: {}", paths.root.string(), ec.message());
  if (currentCluster(home) == name) WEFT_TRY(setCurrentCluster(home, ""));
  return result;
}

}  // namespace weft::localcluster
