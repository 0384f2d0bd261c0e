#pragma once
// What ztunnel records of each proxied connection: the Istio standard labels of its
// istio_tcp_* metrics and the fields of its access-log line. Filled in as the connection
// is set up; reported when it opens and again when it closes.

#include <chrono>
#include <cstdint>
#include <string>

namespace weft::ztunnel {

struct PeerFacts {
  std::string address;    // ip:port
  std::string workload;   // the owner (Deployment) name, "unknown" when not a mesh workload
  std::string ns;
  std::string principal;  // spiffe://..., "unknown" without one
  std::string app;        // canonical service name
  std::string version;    // canonical revision
};

struct ConnectionReport {
  std::string reporter;   // "source" (outbound side) or "destination" (inbound side)
  std::string direction;  // "outbound" or "inbound", for the log
  PeerFacts source;
  PeerFacts destination;
  std::string destinationService;  // hostname, "unknown" when the destination was a pod IP
  std::string destinationServiceName;
  std::string destinationServiceNamespace;
  bool mutualTls = false;
  std::string responseFlags = "-";  // "-" ok; DENY, CONNECT (no upstream), REGISTRY_ONLY, TLS_FAILURE...
  std::string error;                // said in the log when the connection failed
  uint64_t requestBytes = 0;   // client -> server
  uint64_t responseBytes = 0;  // server -> client
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

// One `key=value` access-log line in ztunnel's spelling, e.g.
// `connection complete src.addr=198.18.1.5:40312 src.workload=curl ... direction="outbound" bytes_sent=78 ...`.
std::string accessLogLine(const ConnectionReport& report);

}  // namespace weft::ztunnel
