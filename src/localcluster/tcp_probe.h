#pragma once
// The readiness checks the local kubelet runs: a container's readinessProbe (httpGet or
// tcpSocket) when it has one, as Kubernetes does; without one, whether every port the
// container declares accepts a TCP connection yet (so a Service never sends traffic to a
// pod whose app is still starting). exec probes, liveness and startup probes are not run.

#include <chrono>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

namespace weft::localcluster {

bool tcpAccepts(const std::string& ip, int port, std::chrono::milliseconds timeout);

struct ReadinessProbe {
  bool http = false;  // httpGet, else tcpSocket
  int port = 0;
  std::string path = "/";
};

// The container's readinessProbe, with a named port resolved against its ports; nullopt when
// it has none (or only an exec probe, which is not run).
std::optional<ReadinessProbe> readinessProbeOf(const boost::json::value& container);

// httpGet succeeds on a status from 200 to 399, as kubelet's does, unless the answer names
// another pod in x-weft-pod. Pods on the node's network (ztunnel) share their address, and
// during a rollout two processes listen on the same port with SO_REUSEPORT: the old pod's
// "ready" must not make the new one Ready before it is.
bool probeSucceeds(const ReadinessProbe& probe, const std::string& ip, const std::string& podName, std::chrono::milliseconds timeout);

}  // namespace weft::localcluster
