// weft-proxy: Weft's L7 proxy. One binary, a role per argument; this slice has the
// ingress gateway role (`weft-proxy gateway`), configured by its environment as the
// gateway Deployment `weft install` renders sets it.

#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

#include "proxy/gateway.h"

int main(int argc, char** argv) {
  std::string role = argc > 1 ? argv[1] : "";
  if (role != "gateway") {
    spdlog::error("usage: weft-proxy gateway (role {:?} is not built yet: waypoint, eastwest and ai come later)", role);
    return 2;
  }
  // gRPC's own DNS resolver does not read /etc/hosts; the local cluster names Services there.
  setenv("GRPC_DNS_RESOLVER", "native", 0);
  auto settings = weft::proxy::GatewaySettings::fromEnvironment();
  if (!settings) {
    spdlog::error("{}", settings.error().message);
    return 2;
  }
  return weft::proxy::runGateway(*settings);
}
