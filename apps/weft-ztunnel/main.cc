// weft-ztunnel: the node's L4 data plane. Configured by its environment, as the ztunnel
// DaemonSet that `weft install` renders sets it.

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "base/descriptor_limit.h"
#include "ztunnel/ztunnel.h"

int main() {
  // gRPC's own DNS resolver does not read /etc/hosts; the local cluster names Services there.
  setenv("GRPC_DNS_RESOLVER", "native", 0);
  // Every pod's connections on the node go through this one process.
  weft::raiseDescriptorLimit();
  auto settings = weft::ztunnel::ZtunnelSettings::fromEnvironment();
  if (!settings) {
    spdlog::error("{}", settings.error().message);
    return 2;
  }
  auto ztunnel = weft::ztunnel::Ztunnel::create(*settings);
  if (!ztunnel) {
    spdlog::error("{}", ztunnel.error().message);
    return 1;
  }
  return (*ztunnel)->run();
}
