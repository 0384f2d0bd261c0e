#pragma once
// weftd, the process: reads the store through its watch, rebuilds the registry on every
// (debounced) change and publishes it to the discovery server, which pushes only what
// changed to each client; serves certificates; answers readiness on 15021 and Prometheus
// metrics on 15014. Everything is rebuilt from the store at start, so a restart loses
// nothing.

#include <filesystem>
#include <string>

namespace weft::control {

struct ControlPlaneSettings {
  std::filesystem::path store;
  std::string revision;  // "" or "default" for the default revision
  std::string address = "0.0.0.0";
  int grpcPort = 15012;
  int monitoringPort = 15014;
  int statusPort = 15021;
};

// Runs until SIGTERM or SIGINT; returns the exit code.
int runControlPlane(const ControlPlaneSettings& settings);

}  // namespace weft::control
