#include "localcluster/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/subprocess.h"

namespace weft::localcluster {

namespace fs = std::filesystem;

// iproute2 does the mount-propagation set-up of /run/netns that makes a namespace file
// outlive the process that made it; running it keeps ours identical to `ip netns add`.
Status createNetns(const std::string& name) { return runChecked({"ip", "netns", "add", name}); }

Status deleteNetns(const std::string& name) {
  if (!netnsExists(name)) return {};
  WEFT_TRY(runChecked({"ip", "netns", "delete", name}));
  std::error_code ec;
  fs::remove_all(netnsEtcDir(name), ec);
  return {};
}

bool netnsExists(const std::string& name) {
  struct stat st{};
  return stat((std::string(kNetnsDir) + "/" + name).c_str(), &st) == 0;
}

std::vector<std::string> listNetns() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kNetnsDir, ec)) names.push_back(entry.path().filename().string());
  return names;
}

Status enterNetns(const std::string& name) {
  std::string path = std::string(kNetnsDir) + "/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return makeError("network namespace {}: {}", name, std::strerror(errno));
  int rc = setns(fd, CLONE_NEWNET);
  int saved = errno;
  close(fd);
  if (rc != 0) return makeError("entering network namespace {}: {}", name, std::strerror(saved));
  return {};
}

Status runInNetns(int netnsFd, const std::function<void()>& task) {
  Status result;
  std::thread([&] {
    if (setns(netnsFd, CLONE_NEWNET) != 0) {
      result = makeError("entering a network namespace: {}", std::strerror(errno));
      return;
    }
    task();
  }).join();
  return result;
}

Result<ino_t> netnsInode(const std::string& name) {
  struct stat st{};
  std::string path = std::string(kNetnsDir) + "/" + name;
  if (stat(path.c_str(), &st) != 0) return makeError("network namespace {}: {}", name, std::strerror(errno));
  return st.st_ino;
}

std::vector<pid_t> processesInNetns(ino_t inode) {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
    struct stat st{};
    std::string link = std::string("/proc/") + entry->d_name + "/ns/net";
    if (stat(link.c_str(), &st) == 0 && st.st_ino == inode) pids.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return pids;
}

std::string netnsEtcDir(const std::string& name) { return "/etc/netns/" + name; }

}  // namespace weft::localcluster
