#include "cli/store_access.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

#include "cli/cli.h"
#include "localcluster/cluster_home.h"

namespace weft::cli {

void addStoreOption(CLI::App* cmd, StoreFlags& flags) {
  cmd->add_option("--store", flags.store, "Object store directory (default: $WEFT_STORE, else the cluster's store)");
  cmd->add_option("--cluster", flags.cluster, "Local cluster to talk to (default: $WEFT_CLUSTER, else the current cluster)");
}

Result<store::LocalStore> openStore(const StoreFlags& flags) {
  std::string path = flags.store;
  if (path.empty()) {
    if (const char* env = std::getenv("WEFT_STORE"); env && *env) path = env;
  }
  if (!path.empty()) return store::LocalStore::open(path);
  auto home = localcluster::weftHome();
  std::string cluster = localcluster::selectedClusterName(home, flags.cluster);
  if (!cluster.empty()) {
    auto config = localcluster::loadCluster(home, cluster);
    if (!config) return config.error();
    return store::LocalStore::open(localcluster::clusterPaths(home, cluster).store());
  }
  return store::LocalStore::open(home / "store");
}

std::string resourceName(const model::KindInfo& kind) {
  std::string name = kind.kind;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return kind.group.empty() ? name : name + "." + kind.group;
}

Result<const model::KindInfo*> resolveKind(std::string_view typed) {
  const model::KindInfo* kind = model::findKindByName(typed);
  if (kind == nullptr) return makeError("the server doesn't have a resource type \"{}\"", typed);
  return kind;
}

int printError(const Error& error) {
  fmt::print(stderr, "error: {}\n", error.message);
  return kExitFailure;
}

}  // namespace weft::cli
