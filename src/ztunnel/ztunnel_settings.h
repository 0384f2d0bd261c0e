#pragma once
// How a weft-ztunnel is told who and where it is: the environment its DaemonSet gives it
// (the names Istio's ztunnel uses where they exist), so the same binary runs on the local
// cluster and, later, in Kubernetes.

#include <filesystem>
#include <string>

#include "base/result.h"

namespace weft::ztunnel {

struct ZtunnelSettings {
  std::string nodeName;        // NODE_NAME
  std::string instanceIp;      // INSTANCE_IP: the node's address, where admin ports bind
  std::string podName;         // POD_NAME
  std::string revision;        // REVISION: which weftd revision's config it follows
  std::string caAddress;       // CA_ADDRESS, e.g. istiod-prod.istio-system.svc:15012
  std::string xdsAddress;      // XDS_ADDRESS
  std::filesystem::path store;           // WEFT_STORE: where the node credential Secret is read
  std::string credentialSecret;          // NODE_CREDENTIAL_SECRET; "-<node>" is appended
  std::filesystem::path nodeAgentDir;    // WEFT_NODE_AGENT_DIR: <dir>/<node>.sock
  int adminPort = 15000;
  int statsPort = 15020;
  int readinessPort = 15021;
  // How long a ztunnel told to stop keeps serving open connections (its successor takes
  // new ones); within the DaemonSet's 30 s termination grace period.
  int drainSeconds = 20;

  std::filesystem::path nodeAgentSocket() const { return nodeAgentDir / (nodeName + ".sock"); }
  std::string credentialSecretName() const { return credentialSecret + "-" + nodeName; }

  // Every required variable present and well-formed, or an error naming the first one
  // that is not.
  static Result<ZtunnelSettings> fromEnvironment();
};

}  // namespace weft::ztunnel
