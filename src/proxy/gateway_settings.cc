#include <cstdlib>

#include "proxy/gateway.h"

namespace weft::proxy {

namespace {

std::string env(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

}  // namespace

Result<GatewaySettings> GatewaySettings::fromEnvironment() {
  GatewaySettings s;
  s.podName = env("POD_NAME");
  s.podNamespace = env("POD_NAMESPACE", "istio-system");
  s.nodeName = env("NODE_NAME");
  s.instanceIp = env("INSTANCE_IP");
  s.revision = env("REVISION", "default");
  s.xdsAddress = env("XDS_ADDRESS", env("CA_ADDRESS", "istiod.istio-system.svc:15012"));
  s.workloadName = env("ISTIO_META_WORKLOAD_NAME", s.podName);
  s.serviceAccount = env("SERVICE_ACCOUNT");
  s.store = env("WEFT_STORE");
  if (s.store.empty()) {
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    if (!ec && cwd.parent_path().filename() == "pods" && std::filesystem::is_directory(cwd.parent_path().parent_path() / "store", ec)) {
      s.store = cwd.parent_path().parent_path() / "store";
    }
  }
  std::string base = s.revision == "default" ? "weft-node-credential" : "weft-node-credential-" + s.revision;
  s.credentialSecret = env("NODE_CREDENTIAL_SECRET", base);
  if (!s.credentialSecret.ends_with("-" + s.nodeName)) s.credentialSecret += "-" + s.nodeName;
  std::string drain = env("TERMINATION_DRAIN_DURATION_SECONDS");
  if (!drain.empty()) {
    char* end = nullptr;
    long seconds = std::strtol(drain.c_str(), &end, 10);
    if (end == drain.c_str() || *end != '\0' || seconds < 0 || seconds > 3600) {
      return makeError("TERMINATION_DRAIN_DURATION_SECONDS={:?}: not a number of seconds from 0 to 3600", drain);
    }
    s.terminationDrain = std::chrono::seconds(seconds);
  }
  if (s.podName.empty()) return makeError("POD_NAME is not set: the gateway reads its own pod's labels");
  if (s.nodeName.empty()) return makeError("NODE_NAME is not set: the gateway borrows its node's credential");
  if (s.store.empty()) return makeError("WEFT_STORE is not set and the working directory is not a local-cluster pod's");
  return s;
}

}  // namespace weft::proxy
