// `weft cluster create|delete|list`, and the hidden `weft cluster runtime` that
// `create` starts in the background for each cluster.

#include <unistd.h>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "base/time_format.h"
#include "cli/cli.h"
#include "cli/object_commands.h"
#include "cli/resource_printer.h"
#include "cli/store_access.h"
#include "localcluster/cluster_lifecycle.h"
#include "localcluster/runtime.h"

namespace weft::cli {
namespace {

namespace fs = std::filesystem;
using namespace localcluster;

struct ClusterFlags {
  std::string name;
  int nodes = 2;
  std::string podCidr = "198.18.0.0/16";
  std::string serviceCidr = "198.19.0.0/16";
};

fs::path selfBinary() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("weft") : self;
}

void printStep(const std::string& line) {
  if (line.ends_with("...")) {
    fmt::print("{}\n", line);
  } else {
    fmt::print(" ✓ {}\n", line);
  }
  std::fflush(stdout);
}

int runCreate(const ClusterFlags& flags) {
  ClusterConfig config;
  config.name = flags.name;
  config.nodes = flags.nodes;
  auto pods = Ipv4Cidr::parse(flags.podCidr);
  if (!pods) return printError(pods.error().wrap("--pod-cidr"));
  auto services = Ipv4Cidr::parse(flags.serviceCidr);
  if (!services) return printError(services.error().wrap("--service-cidr"));
  config.podCidr = *pods;
  config.serviceCidr = *services;
  config.created = formatRfc3339(std::chrono::system_clock::now());
  if (auto status = createCluster(weftHome(), config, selfBinary(), printStep); !status) {
    return printError(status.error().wrap("failed to create cluster"));
  }
  fmt::print("Set current cluster to \"{}\". You can now use your cluster with:\n\nweft get pods -A\n", config.name);
  return kExitOk;
}

int runDelete(const std::string& name) {
  if (auto status = deleteCluster(weftHome(), name, [](const std::string& line) { fmt::print("{}\n", line); }); !status) {
    return printError(status.error().wrap("failed to delete cluster"));
  }
  return kExitOk;
}

int runList() {
  auto home = weftHome();
  auto clusters = listClusters(home);
  if (!clusters) return printError(clusters.error());
  if (clusters->empty()) {
    fmt::print(stderr, "No clusters found.\n");
    return kExitOk;
  }
  std::string current = currentCluster(home);
  std::vector<std::vector<std::string>> rows{{"NAME", "NODES", "POD-CIDR", "SERVICE-CIDR", "RUNTIME", "CURRENT"}};
  for (const auto& c : *clusters) {
    pid_t pid = runningRuntime(home, c.name);
    rows.push_back({c.name, std::to_string(c.nodes), c.podCidr.str(), c.serviceCidr.str(),
                    pid ? fmt::format("running (pid {})", pid) : "stopped", c.name == current ? "*" : ""});
  }
  fmt::print("{}", renderTable(rows));
  return kExitOk;
}

int runRuntimeProcess(const std::string& name) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  return runRuntime({weftHome(), name, selfBinary().parent_path()});
}

}  // namespace

void addClusterCommands(CLI::App& app, int& exitCode) {
  auto* cluster = app.add_subcommand("cluster", "Create, delete and list local clusters (the embedded kind)");
  cluster->require_subcommand(1);

  auto createFlags = std::make_shared<ClusterFlags>();
  auto* create = cluster->add_subcommand("create", "Create a local cluster and make it current");
  create->add_option("--name", createFlags->name, "Cluster name")->required();
  create->add_option("--nodes", createFlags->nodes, "Number of nodes")->capture_default_str();
  create->add_option("--pod-cidr", createFlags->podCidr, "Pod address range (inside 198.18.0.0/15)")->capture_default_str();
  create->add_option("--service-cidr", createFlags->serviceCidr, "Service address range (inside 198.18.0.0/15)")->capture_default_str();
  create->callback([createFlags, &exitCode] { exitCode = runCreate(*createFlags); });

  auto deleteName = std::make_shared<std::string>();
  auto* del = cluster->add_subcommand("delete", "Delete a local cluster and everything in it");
  del->add_option("--name", *deleteName, "Cluster name")->required();
  del->callback([deleteName, &exitCode] { exitCode = runDelete(*deleteName); });

  auto* list = cluster->add_subcommand("list", "List local clusters");
  list->callback([&exitCode] { exitCode = runList(); });

  auto runtimeName = std::make_shared<std::string>();
  auto* runtime = cluster->add_subcommand("runtime", "");  // internal: started by `create`
  runtime->group("");
  runtime->add_option("--name", *runtimeName)->required();
  runtime->callback([runtimeName, &exitCode] { exitCode = runRuntimeProcess(*runtimeName); });
}

}  // namespace weft::cli
