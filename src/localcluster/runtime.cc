#include "localcluster/runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "base/file_io.h"
#include "localcluster/netns.h"
#include "localcluster/reconciler.h"
#include "store/store_watch.h"

namespace weft::localcluster {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Pod namespaces and processes a previous runtime of this cluster left behind (it died):
// they are recreated from the store, so nothing stale may keep running beside them.
void sweepLeftovers(const std::string& cluster) {
  for (const auto& netns : listNetns()) {
    if (netns == clusterNetnsName(cluster) || !netnsBelongsTo(netns, cluster)) continue;
    if (auto inode = netnsInode(netns)) {
      for (pid_t pid : processesInNetns(*inode)) kill(pid, SIGKILL);
    }
    (void)deleteNetns(netns);
  }
}

int signalDescriptor() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

}  // namespace

int runRuntime(const RuntimeSettings& settings) {
  auto config = loadCluster(settings.home, settings.cluster);
  if (!config) {
    spdlog::error("{}", config.error().message);
    return 1;
  }
  ClusterPaths paths = clusterPaths(settings.home, settings.cluster);
  sweepLeftovers(settings.cluster);
  // Node ports listen in the namespace the runtime was started in (the host's): keep a
  // way back there before leaving it.
  int hostNetns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (hostNetns < 0) {
    spdlog::error("opening the host's network namespace: {}", std::strerror(errno));
    return 1;
  }
  if (auto status = enterNetns(clusterNetnsName(settings.cluster)); !status) {
    spdlog::error("{}", status.error().message);
    return 1;
  }
  auto store = store::LocalStore::open(paths.store());
  if (!store) {
    spdlog::error("{}", store.error().message);
    return 1;
  }
  int signals = signalDescriptor();
  // After the signal mask: the proxy's thread must not take SIGTERM or SIGCHLD. Node-port
  // connections come from the first node (kind maps host ports to the control plane).
  HostPortProxy hostPorts(hostNetns, nodesOf(*config).front().address);
  Reconciler reconciler(*store, KubeletSettings{*config, paths, settings.programDir, systemClock()});
  reconciler.exposeNodePorts(hostPorts);
  if (auto status = reconciler.registerNodes(); !status) {
    spdlog::error("registering nodes: {}", status.error().message);
    return 1;
  }
  reconciler.adoptExistingRules();
  if (auto status = reconciler.nodeAgents().start(); !status) {
    spdlog::error("{}", status.error().message);
    return 1;
  }
  auto watch = store->watch();
  if (!watch) {
    spdlog::error("watching {}: {}", paths.store().string(), watch.error().message);
    return 1;
  }
  (void)writeFileAtomically(paths.runtimePid(), fmt::format("{}\n", getpid()));
  bool ready = false;
  bool dirty = true;
  while (true) {
    if (dirty) {
      // Take every change that is already waiting, then act once on all of them.
      auto events = (*watch)->next(0ms);
      if (events) {
        for (const auto& event : *events) reconciler.observe(event);
      }
      reconciler.reconcile();
      dirty = false;
      if (!ready) {
        (void)writeFileAtomically(paths.runtimeReady(), "ready\n");
        spdlog::info("cluster {} runtime ready", settings.cluster);
        ready = true;
      }
    }
    int timeout = 5000;
    if (auto wake = reconciler.kubelet().nextWake()) {
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*wake - std::chrono::system_clock::now()).count();
      timeout = static_cast<int>(std::clamp<int64_t>(wait, 0, 5000));
    }
    std::vector<pollfd> fds = {{signals, POLLIN, 0}, {(*watch)->fd(), POLLIN, 0}};
    for (int fd : reconciler.nodeAgents().pollFds()) fds.push_back({fd, POLLIN, 0});
    int n = poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      bool stop = false;
      while (read(signals, &info, sizeof info) == sizeof info) stop = stop || info.ssi_signo != SIGCHLD;
      int status = 0;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) reconciler.kubelet().processExited(pid, status);
      dirty = true;
      if (stop) break;
    }
    if (fds[1].revents & POLLIN) {
      // A short pause lets one `weft apply` of many objects arrive as one batch.
      std::this_thread::sleep_for(5ms);
      dirty = true;
    }
    // ztunnels connecting and acking; a hello re-evaluates that node's pods by itself.
    if (std::any_of(fds.begin() + 2, fds.end(), [](const pollfd& p) { return p.revents != 0; })) reconciler.nodeAgents().onReadable();
    if (reconciler.kubelet().tick()) dirty = true;
  }
  spdlog::info("cluster {} runtime stopping; pods keep running until `weft cluster delete`", settings.cluster);
  std::error_code ec;
  fs::remove(paths.runtimeReady(), ec);
  fs::remove(paths.runtimePid(), ec);
  return 0;
}

}  // namespace weft::localcluster
