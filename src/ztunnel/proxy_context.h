#pragma once
// What every pod's proxy shares within one ztunnel: the config, certificates, metrics and
// the options of the data path. Owned by the Ztunnel; pod proxies borrow it.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "base/ipv4.h"
#include "hbone/hbone_counters.h"
#include "ztunnel/certificate_manager.h"
#include "ztunnel/config_snapshot.h"
#include "ztunnel/tcp_metrics.h"

namespace weft::ztunnel {

struct ProxyContext {
  ConfigHolder& config;
  CertificateManager& certificates;
  TcpMetrics& metrics;
  hbone::HboneCounters& hbone;
  std::string clusterName = "Kubernetes";
  // Connections wait this long for a pod's first certificate before giving up (the
  // certificate is asked for when the pod arrives, so this is only the start-up race).
  std::chrono::milliseconds certificateWait{5000};
  std::chrono::milliseconds connectTimeout{10000};
  std::atomic<uint64_t> roundRobin{0};
};

}  // namespace weft::ztunnel
