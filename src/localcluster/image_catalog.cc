#include "localcluster/image_catalog.h"

#include <unistd.h>

#include <fmt/format.h>

#include "base/subprocess.h"
#include "model/json_access.h"

namespace weft::localcluster {
namespace {

namespace json = boost::json;

struct KnownImage {
  std::string_view repository;
  std::string_view program;  // a Weft program next to `weft`, or an absolute host path
  std::vector<std::string_view> defaultArgs;
};

// go-httpbin listens on 8080; kong/httpbin and kennethreitz/httpbin (older Istio samples)
// on 80. The curl image's entrypoint is curl itself, but Istio's sample overrides it with
// a sleep so people can exec into it; a bare curl image here does the same.
const std::vector<KnownImage>& knownImages() {
  static const std::vector<KnownImage> images{
      {"mccutchen/go-httpbin", "weft-httpbin", {}},
      {"kong/httpbin", "weft-httpbin", {"-port", "80"}},
      {"kennethreitz/httpbin", "weft-httpbin", {"-port", "80"}},
      {"curlimages/curl", "/bin/sleep", {"infinity"}},
      // A gRPC echo server (samples/grpc-echo); its args pick the port and name.
      {"weft/grpc-echo", "weft-grpc-echo", {"serve"}},
      // Istio's tcp-echo sample; its image's CMD is ["9000", "hello"].
      {"istio/tcp-echo-server", "weft-tcp-echo", {"9000", "hello"}},
      // Weft's own images, as `weft install` renders them.
      {"weft/weftd", "weftd", {}},
      {"weft/ztunnel", "weft-ztunnel", {}},
      {"weft/proxy", "weft-proxy", {}},
  };
  return images;
}

std::vector<std::string> strings(const json::value& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& item : list.get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

ContainerCommand cannotRun(std::string reason, std::string message) { return {{}, std::move(reason), std::move(message)}; }

}  // namespace

std::string imageRepository(std::string_view image) {
  std::string repo(image);
  if (auto at = repo.find('@'); at != std::string::npos) repo.resize(at);
  auto slash = repo.rfind('/');
  if (auto colon = repo.rfind(':'); colon != std::string::npos && (slash == std::string::npos || colon > slash)) repo.resize(colon);
  // A first component with a dot or colon (or "localhost") is a registry host.
  if (auto first = repo.find('/'); first != std::string::npos) {
    std::string_view head(repo.data(), first);
    if (head.find('.') != std::string_view::npos || head.find(':') != std::string_view::npos || head == "localhost") {
      repo.erase(0, first + 1);
    }
  }
  if (repo.starts_with("library/")) repo.erase(0, 8);
  return repo;
}

std::string knownImagesList() {
  std::string list;
  for (const auto& image : knownImages()) list += (list.empty() ? "" : ", ") + std::string(image.repository);
  return list;
}

ContainerCommand resolveContainerCommand(const json::value& container, const std::filesystem::path& programDir) {
  std::string image = model::stringAt(container, {"image"});
  std::vector<std::string> command = strings(model::at(container, {"command"}));
  std::vector<std::string> args = strings(model::at(container, {"args"}));
  std::vector<std::string> argv;
  if (!command.empty()) {
    argv = command;
  } else {
    std::string repo = imageRepository(image);
    const KnownImage* known = nullptr;
    for (const auto& candidate : knownImages()) {
      if (candidate.repository == repo) known = &candidate;
    }
    if (known == nullptr) {
      return cannotRun("ErrImagePull", fmt::format("image \"{}\" cannot run on the local cluster: it runs {} or a container's "
                                                   "command:",
                                                   image, knownImagesList()));
    }
    std::string program(known->program);
    argv.push_back(program.starts_with('/') ? program : (programDir / program).string());
    if (args.empty()) {
      for (auto arg : known->defaultArgs) argv.emplace_back(arg);
    }
  }
  argv.insert(argv.end(), args.begin(), args.end());
  if (!argv[0].starts_with('/')) {
    std::string found = findInPath(argv[0]);
    if (found.empty()) {
      return cannotRun("RunContainerError", fmt::format("exec: \"{}\": executable file not found in $PATH", argv[0]));
    }
    argv[0] = found;
  } else if (access(argv[0].c_str(), X_OK) != 0) {
    return cannotRun("RunContainerError", fmt::format("exec: \"{}\": no such executable", argv[0]));
  }
  return {std::move(argv), {}, {}};
}

}  // namespace weft::localcluster
