// `weft exec`, `weft logs` and `weft port-forward`: the verbs that reach into a pod of the
// local cluster, as kubectl's do.

#include <unistd.h>

#include <fmt/core.h>

#include <boost/json.hpp>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "base/base64.h"
#include "base/file_io.h"
#include "cli/cli.h"
#include "cli/object_commands.h"
#include "cli/pod_target.h"
#include "localcluster/cluster_lifecycle.h"
#include "localcluster/container_env.h"
#include "localcluster/container_process.h"
#include "localcluster/port_forward.h"
#include "model/json_access.h"
#include "model/service_ports.h"

namespace weft::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using model::at;
using model::stringAt;
using namespace std::chrono_literals;

struct PodFlags {
  std::vector<std::string> args;
  std::string ns = "default";
  std::string container;
  bool follow = false;
  bool previous = false;
  int tail = -1;
  bool stdinFlag = false;
  bool ttyFlag = false;
  std::string address = "127.0.0.1";
  StoreFlags store;
};

// The container a command means: -c NAME, else the pod's first.
Result<json::value> pickContainer(const model::Object& pod, const std::string& wanted) {
  const auto& containers = at(pod.value(), {"spec", "containers"});
  if (!containers.is_array() || containers.get_array().empty()) return makeError("pod {} has no containers", pod.name());
  if (wanted.empty()) return containers.get_array()[0];
  for (const auto& c : containers.get_array()) {
    if (stringAt(c, {"name"}) == wanted) return c;
  }
  return makeError("container {} is not valid for pod {}", wanted, pod.name());
}

int restartCountOf(const model::Object& pod, const std::string& container) {
  const auto& statuses = at(pod.value(), {"status", "containerStatuses"});
  if (!statuses.is_array()) return 0;
  for (const auto& s : statuses.get_array()) {
    if (stringAt(s, {"name"}) == container && at(s, {"restartCount"}).is_int64()) return static_cast<int>(at(s, {"restartCount"}).get_int64());
  }
  return 0;
}

fs::path podDir(const ClusterContext& cluster, const model::Object& pod) {
  return cluster.paths.podDir(pod.ns(), pod.name(), stringAt(pod.value(), {"metadata", "uid"}));
}

int runExec(const PodFlags& flags) {
  if (flags.args.size() < 2) return printError(makeError("usage: weft exec [-n NS] POD|deploy/NAME -- COMMAND [args...]"));
  if (auto status = localcluster::requireRoot("weft exec"); !status) return printError(status.error());
  auto cluster = openCluster(flags.store);
  if (!cluster) return printError(cluster.error());
  auto target = findPod(cluster->store, flags.ns, flags.args[0]);
  if (!target) return printError(target.error());
  const model::Object& pod = target->pod;
  auto container = pickContainer(pod, flags.container);
  if (!container) return printError(container.error());
  if (stringAt(pod.value(), {"status", "phase"}) != "Running") {
    return printError(makeError("cannot exec into pod {}: it is not running (phase {})", pod.name(),
                                stringAt(pod.value(), {"status", "phase"}).empty() ? "Pending" : stringAt(pod.value(), {"status", "phase"})));
  }
  bool hostNetwork = at(pod.value(), {"spec", "hostNetwork"}) == json::value(true);
  std::string hostname = hostNetwork ? stringAt(pod.value(), {"spec", "nodeName"}) : pod.name();
  localcluster::PodFacts facts{stringAt(pod.value(), {"status", "podIP"}), stringAt(pod.value(), {"status", "hostIP"}), hostname};
  const auto& store = cluster->store;
  auto lookup = [&store](const std::string& kind, const std::string& ns, const std::string& name,
                         const std::string& key) -> std::optional<std::string> {
    auto object = store.get({kind, ns, name});
    if (!object || !*object) return std::nullopt;
    const auto& value = at((*object)->value(), {"data", key});
    if (!value.is_string()) return std::nullopt;
    if (kind == "ConfigMap") return std::string(value.get_string());
    auto decoded = base64Decode(value.get_string());
    return decoded ? std::optional<std::string>(*decoded) : std::nullopt;
  };
  auto env = localcluster::containerEnv(pod, *container, facts, lookup);
  localcluster::ProcessSpec spec;
  spec.argv.assign(flags.args.begin() + 1, flags.args.end());
  spec.env = env ? *env : std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  spec.netns = podNetns(*cluster, pod);
  spec.hostname = hostname;
  std::error_code ec;
  if (fs::exists(podDir(*cluster, pod) / "hosts", ec)) spec.hostsFile = podDir(*cluster, pod) / "hosts";
  Error error = localcluster::execInPod(spec);
  fmt::print(stderr, "error: {}\n", error.message);
  return 126;
}

// Prints what is new in `file` from `offset`; returns the new offset.
uint64_t printFrom(const fs::path& file, uint64_t offset) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return offset;
  in.seekg(static_cast<std::streamoff>(offset));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fwrite(chunk.data(), 1, chunk.size(), stdout);
  fflush(stdout);
  return offset + chunk.size();
}

std::string lastLines(const std::string& text, int count) {
  if (count < 0) return text;
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (int i = 0; i < count; ++i) {
    if (pos == 0) return text;
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return count == 0 ? std::string() : text.substr(pos + 1);
}

int runLogs(const PodFlags& flags) {
  if (flags.args.size() != 1) return printError(makeError("usage: weft logs [-f] [-n NS] [-c CONTAINER] POD|deploy/NAME"));
  auto cluster = openCluster(flags.store);
  if (!cluster) return printError(cluster.error());
  auto target = findPod(cluster->store, flags.ns, flags.args[0]);
  if (!target) return printError(target.error());
  const model::Object& pod = target->pod;
  auto container = pickContainer(pod, flags.container);
  if (!container) return printError(container.error());
  std::string name = stringAt(*container, {"name"});
  int restart = restartCountOf(pod, name);
  if (flags.previous) {
    if (restart == 0) return printError(makeError("previous terminated container \"{}\" in pod \"{}\" not found", name, pod.name()));
    --restart;
  }
  fs::path dir = podDir(*cluster, pod) / name;
  fs::path file = dir / fmt::format("{}.log", restart);
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return printError(makeError("container \"{}\" in pod \"{}\" is waiting to start: no logs yet", name, pod.name()));
  }
  auto text = readFile(file);
  if (!text) return printError(text.error());
  std::string shown = lastLines(*text, flags.tail);
  fwrite(shown.data(), 1, shown.size(), stdout);
  fflush(stdout);
  if (!flags.follow || flags.previous) return kExitOk;
  // Following ends, as kubectl's does, when the container ends: here, when it restarts
  // (a newer log appears) or the pod is gone.
  uint64_t offset = text->size();
  fs::path next = dir / fmt::format("{}.log", restart + 1);
  while (fs::exists(file, ec) && !fs::exists(next, ec)) {
    offset = printFrom(file, offset);
    std::this_thread::sleep_for(100ms);
  }
  printFrom(file, offset);
  return kExitOk;
}

Result<int> parsePort(std::string_view text) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port < 0 || port > 65535) return makeError("invalid port \"{}\"", text);
  return port;
}

// REMOTE as the pod sees it: a Service port maps to its targetPort on the chosen pod.
Result<int> remotePort(const PodTarget& target, int requested) {
  if (!target.service) return requested;
  const auto& ports = at(target.service->value(), {"spec", "ports"});
  for (const auto& port : ports.is_array() ? ports.get_array() : json::array()) {
    if (at(port, {"port"}) == json::value(requested)) {
      int resolved = model::resolveTargetPort(port, target.pod);
      if (resolved == 0) return makeError("pod {} has no container port for service port {}", target.pod.name(), requested);
      return resolved;
    }
  }
  return makeError("Service {} does not have a service port {}", target.service->name(), requested);
}

int runPortForward(const PodFlags& flags) {
  if (flags.args.size() != 2) {
    return printError(makeError("usage: weft port-forward [-n NS] POD|svc/NAME|deploy/NAME [LOCAL_PORT:]REMOTE_PORT"));
  }
  if (auto status = localcluster::requireRoot("weft port-forward"); !status) return printError(status.error());
  auto cluster = openCluster(flags.store);
  if (!cluster) return printError(cluster.error());
  auto target = findPod(cluster->store, flags.ns, flags.args[0]);
  if (!target) return printError(target.error());
  std::string mapping = flags.args[1];
  auto colon = mapping.find(':');
  auto local = parsePort(colon == std::string::npos ? mapping : mapping.substr(0, colon));
  auto remote = parsePort(colon == std::string::npos ? mapping : mapping.substr(colon + 1));
  if (colon == 0) local = 0;  // ":80" picks a free local port
  if (!local) return printError(local.error());
  if (!remote || *remote == 0) return printError(remote ? makeError("invalid port \"{}\"", mapping) : remote.error());
  auto podPort = remotePort(*target, *remote);
  if (!podPort) return printError(podPort.error());
  if (stringAt(target->pod.value(), {"status", "phase"}) != "Running") {
    return printError(makeError("unable to forward port because pod is not running. Current status={}",
                                stringAt(target->pod.value(), {"status", "phase"})));
  }
  int requested = *remote;
  auto status = localcluster::runPortForward(
      {flags.address, *local}, {podNetns(*cluster, target->pod), *podPort},
      [&](int bound) {
        fmt::print("Forwarding from {}:{} -> {}\n", flags.address, bound, requested);
        fflush(stdout);
      },
      [&] {
        fmt::print("Handling connection for {}\n", *local);
        fflush(stdout);
      });
  if (!status) return printError(status.error());
  return kExitOk;
}

void addCommon(CLI::App* cmd, PodFlags& flags) {
  cmd->add_option("-n,--namespace", flags.ns, "Namespace")->capture_default_str();
  addStoreOption(cmd, flags.store);
}

}  // namespace

void addPodCommands(CLI::App& app, int& exitCode, const std::vector<std::string>& podCommand) {
  auto execFlags = std::make_shared<PodFlags>();
  auto* exec = app.add_subcommand("exec", "Run a command inside a pod of the local cluster (its network and names)");
  exec->add_option("target", execFlags->args, "POD|deploy/NAME -- COMMAND [args...]")->required()->expected(1);
  exec->add_option("-c,--container", execFlags->container, "Container (default: the first)");
  exec->add_flag("-i,--stdin", execFlags->stdinFlag, "Accepted for kubectl compatibility: stdin is always passed");
  exec->add_flag("-t,--tty", execFlags->ttyFlag, "Accepted for kubectl compatibility: the terminal is always passed");
  addCommon(exec, *execFlags);
  exec->callback([execFlags, podCommand, &exitCode] {
    execFlags->args.insert(execFlags->args.end(), podCommand.begin(), podCommand.end());
    exitCode = runExec(*execFlags);
  });

  auto logsFlags = std::make_shared<PodFlags>();
  auto* logs = app.add_subcommand("logs", "Print a container's logs");
  logs->add_option("target", logsFlags->args, "POD|deploy/NAME")->required();
  logs->add_option("-c,--container", logsFlags->container, "Container (default: the first)");
  logs->add_flag("-f,--follow", logsFlags->follow, "Follow the log until the container ends");
  logs->add_flag("-p,--previous", logsFlags->previous, "The previous run of a restarted container");
  logs->add_option("--tail", logsFlags->tail, "Lines from the end to show (default: all)");
  addCommon(logs, *logsFlags);
  logs->callback([logsFlags, &exitCode] { exitCode = runLogs(*logsFlags); });

  auto forwardFlags = std::make_shared<PodFlags>();
  auto* forward = app.add_subcommand("port-forward", "Forward a local port to a pod or Service of the local cluster");
  forward->add_option("args", forwardFlags->args, "POD|svc/NAME|deploy/NAME [LOCAL_PORT:]REMOTE_PORT")->required();
  forward->add_option("--address", forwardFlags->address, "Loopback address to listen on")->capture_default_str();
  addCommon(forward, *forwardFlags);
  forward->callback([forwardFlags, &exitCode] { exitCode = runPortForward(*forwardFlags); });
}

}  // namespace weft::cli
