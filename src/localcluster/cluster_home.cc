#include "localcluster/cluster_home.h"

#include <algorithm>
#include <cstdlib>
#include <functional>

#include "base/file_io.h"

namespace weft::localcluster {

namespace fs = std::filesystem;

fs::path weftHome() {
  if (const char* env = std::getenv("WEFT_HOME"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/root") / ".weft";
}

ClusterPaths clusterPaths(const fs::path& home, const std::string& name) { return {home / "clusters" / name}; }

std::string clusterNetnsName(const std::string& cluster) { return "weft-" + cluster; }

std::string podNetnsName(const std::string& cluster, const std::string& ns, const std::string& pod) {
  std::string name = fmt::format("weft-{}.{}.{}", cluster, ns, pod);
  if (name.size() <= 120) return name;
  return fmt::format("weft-{}.{:016x}", cluster, std::hash<std::string>{}(ns + "/" + pod));
}

bool netnsBelongsTo(const std::string& netns, const std::string& cluster) {
  std::string own = clusterNetnsName(cluster);
  return netns == own || netns.starts_with(own + ".");
}

Result<std::vector<ClusterConfig>> listClusters(const fs::path& home) {
  std::vector<ClusterConfig> clusters;
  std::error_code ec;
  fs::path dir = home / "clusters";
  if (!fs::exists(dir, ec)) return clusters;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory()) continue;
    auto loaded = loadCluster(home, entry.path().filename().string());
    if (loaded) clusters.push_back(std::move(*loaded));
  }
  if (ec) return makeError("{}: {}", dir.string(), ec.message());
  std::sort(clusters.begin(), clusters.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return clusters;
}

Result<ClusterConfig> loadCluster(const fs::path& home, const std::string& name) {
  auto paths = clusterPaths(home, name);
  std::error_code ec;
  if (name.empty() || name.find('/') != std::string::npos || !fs::exists(paths.config(), ec)) {
    return makeError("cluster \"{}\" not found (weft cluster list shows the clusters)", name);
  }
  auto text = readFile(paths.config());
  if (!text) return text.error();
  auto config = ClusterConfig::fromJson(*text);
  if (!config) return config.error().wrap(paths.config().string());
  return config;
}

std::string currentCluster(const fs::path& home) {
  auto text = readFile(home / "current-cluster");
  if (!text) return {};
  std::string name = *text;
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  return name;
}

Status setCurrentCluster(const fs::path& home, const std::string& name) {
  if (name.empty()) {
    std::error_code ec;
    fs::remove(home / "current-cluster", ec);
    return {};
  }
  return writeFileAtomically(home / "current-cluster", name + "\n");
}

std::string selectedClusterName(const fs::path& home, const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("WEFT_CLUSTER"); env && *env) return env;
  return currentCluster(home);
}

}  // namespace weft::localcluster
