#pragma once
// The readiness check the local kubelet runs for containers that declare ports: does the
// port accept a TCP connection yet? (Probes from the pod spec are not run yet.)

#include <chrono>
#include <string>

namespace weft::localcluster {

bool tcpAccepts(const std::string& ip, int port, std::chrono::milliseconds timeout);

}  // namespace weft::localcluster
