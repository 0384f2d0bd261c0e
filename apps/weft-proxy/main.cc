// weft-proxy: Weft's L7 proxy. One binary, a role per argument: the ingress gateway
// (`weft-proxy gateway`) and the waypoint (`weft-proxy waypoint`), configured by their
// environment as the Deployments `weft install` and the gateway deployer render set it.

#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

#include "proxy/gateway.h"

int main(int argc, char** argv) {
  std::string role = argc > 1 ? argv[1] : "";
  // "waypoint" is the role weftd's gateway deployer starts Gateways of class istio-waypoint
  // in: HBONE on 15008 with the pod's own certificate, routing by the Services that use it.
  if (role != "gateway" && role != "waypoint") {
    spdlog::error("usage: weft-proxy gateway|waypoint (role {:?} is not built yet: eastwest and ai come later)", role);
    return 2;
  }
  // gRPC's own DNS resolver does not read /etc/hosts; the local cluster names Services there.
  setenv("GRPC_DNS_RESOLVER", "native", 0);
  auto settings = weft::proxy::GatewaySettings::fromEnvironment();
  if (!settings) {
    spdlog::error("{}", settings.error().message);
    return 2;
  }
  settings->role = role;
  if (role == "waypoint" && settings->serviceAccount.empty()) {
    spdlog::error("SERVICE_ACCOUNT is not set: a waypoint's identity is its service account's");
    return 2;
  }
  return weft::proxy::runGateway(*settings);
}
