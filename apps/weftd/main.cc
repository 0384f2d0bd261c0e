// weftd: Weft's control plane (the registry, the CA, config push), as istiod is Istio's.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "control/control_plane.h"

int main(int argc, char** argv) {
  weft::control::ControlPlaneSettings settings;
  if (const char* store = std::getenv("WEFT_STORE")) settings.store = store;
  if (const char* revision = std::getenv("REVISION")) settings.revision = revision;
  std::string store = settings.store.string();
  CLI::App app{"weftd: Weft's control plane", "weftd"};
  app.add_option("--store", store, "Object store directory (default: $WEFT_STORE)");
  app.add_option("--revision", settings.revision, "Control plane revision (default: $REVISION, else default)");
  app.add_option("--address", settings.address, "Address to serve on")->capture_default_str();
  app.add_option("--grpc-port", settings.grpcPort, "Certificates and discovery (gRPC over TLS)")->capture_default_str();
  app.add_option("--monitoring-port", settings.monitoringPort, "Prometheus metrics")->capture_default_str();
  app.add_option("--status-port", settings.statusPort, "Readiness")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (store.empty()) {
    spdlog::error("no store: give --store or set WEFT_STORE");
    return 64;
  }
  settings.store = store;
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ\t%l\t%v", spdlog::pattern_time_type::utc);
  return weft::control::runControlPlane(settings);
}
