#pragma once
// What a container runs on a host with no container runtime. The images Istio's samples
// use map to programs shipped with Weft (found next to the `weft` binary); a container
// that gives `command:` runs that host command; anything else cannot run, and says so
// the way kubelet does (ErrImagePull) instead of failing silently.

#include <boost/json/value.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace weft::localcluster {

struct ContainerCommand {
  std::vector<std::string> argv;  // argv[0] is an absolute path; empty when it cannot run
  std::string reason;             // kubelet's waiting reason when it cannot: ErrImagePull, RunContainerError
  std::string message;

  bool runnable() const { return !argv.empty(); }
};

// "docker.io/mccutchen/go-httpbin:v2.15.0" -> "mccutchen/go-httpbin": registry, library/,
// tag and digest stripped.
std::string imageRepository(std::string_view image);

// Kubernetes' rule: `command` replaces the image's entrypoint, `args` its default args.
ContainerCommand resolveContainerCommand(const boost::json::value& container, const std::filesystem::path& programDir);

// The images that run here, for messages and docs.
std::string knownImagesList();

}  // namespace weft::localcluster
