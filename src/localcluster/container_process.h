#pragma once
// Starting a container's process: inside the pod's network namespace, with a private
// mount namespace whose /etc/hosts is the pod's hosts file (what `ip netns exec` does),
// its own UTS namespace named after the pod, its env, and stdout/stderr appended to the
// container's log file.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"

namespace weft::localcluster {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] absolute
  std::vector<std::string> env;   // "NAME=value"
  std::string netns;              // a named network namespace
  std::string hostname;
  std::filesystem::path hostsFile;  // empty: keep the host's /etc/hosts
  std::filesystem::path logFile;    // empty: inherit stdout/stderr
  std::filesystem::path workDir = "/";
};

// Forks and execs; the child is a session leader (its own process group), so it can be
// signalled as a group. Errors in the child after the fork land in the log file and exit
// with 127, which the caller sees as a container that exited.
Result<pid_t> startProcess(const ProcessSpec& spec);

// Does the same set-up in the calling process and replaces it with argv (for `weft
// exec`). Returns only on failure.
Error execInPod(const ProcessSpec& spec);

}  // namespace weft::localcluster
