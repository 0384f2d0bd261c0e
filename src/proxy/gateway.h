#pragma once
// weft-proxy in its gateway and waypoint roles: the process around GatewayServer (and, for
// a waypoint, its HBONE listener and its own workload certificate; waypoint_listener.h). It borrows its node's
// credential (see node_credential.h), reads its own pod's labels from the store to know
// which Gateways select it, subscribes to Listener, RouteConfiguration, Cluster and
// MeshConfig from weftd, and serves readiness (15021) and Prometheus metrics (15020).
//
// Threads: the main thread runs the io_context (traffic); the discovery client has its
// own thread and hands config to the io thread by post; the admin endpoints their own.

#include <chrono>
#include <filesystem>
#include <string>

#include "base/result.h"

namespace weft::proxy {

struct GatewaySettings {
  std::string podName;
  std::string podNamespace;
  std::string nodeName;
  std::string instanceIp;
  std::string revision;      // "default" or the revision
  std::string xdsAddress;
  std::filesystem::path store;
  std::string credentialSecret;  // full name, node included
  std::string workloadName;
  std::string role = "gateway";  // "gateway" or "waypoint" (weft-proxy's first argument)
  std::string serviceAccount;    // SERVICE_ACCOUNT: the waypoint's identity is this account's
  int statusPort = 15021;
  int statsPort = 15020;
  // How long SIGTERM waits for client connections to drain before closing what is left
  // (Istio's terminationDrainDuration, 5 s; TERMINATION_DRAIN_DURATION_SECONDS).
  std::chrono::seconds terminationDrain{5};

  // From the environment the gateway Deployment `weft install` renders sets. WEFT_STORE
  // and NODE_CREDENTIAL_SECRET may be absent: the store is then found from the working
  // directory the local runtime gives a pod (<cluster>/pods/<pod>), and the Secret is
  // weft-node-credential[-<rev>]-<node>.
  static Result<GatewaySettings> fromEnvironment();
};

// Runs until SIGTERM or SIGINT (which drain first: GatewayServer::drain(), for up to
// terminationDrain; a second signal stops at once); the exit code.
int runGateway(const GatewaySettings& settings);

}  // namespace weft::proxy
