#pragma once
// ztunnel's Prometheus metrics: istio_tcp_connections_opened_total,
// istio_tcp_connections_closed_total, istio_tcp_sent_bytes_total and
// istio_tcp_received_bytes_total with Istio's standard labels, plus Weft's own counters
// of refusals. Recorded at connection open and close (not per byte), so one mutex is
// enough off the hot path.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "ztunnel/connection_report.h"

namespace weft::ztunnel {

class TcpMetrics {
 public:
  void opened(const ConnectionReport& report);
  void closed(const ConnectionReport& report);
  // A named counter of ztunnel's own: refusals by reason, bad input by kind.
  void count(const std::string& name, const std::string& reason, uint64_t by = 1);

  // Everything in the Prometheus text format, ztunnel's build info first.
  std::string prometheusText(const std::string& extra) const;

 private:
  struct Totals {
    uint64_t opened = 0, closed = 0, sent = 0, received = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Totals> byLabels_;                // rendered label set -> totals
  std::map<std::pair<std::string, std::string>, uint64_t> counters_;  // (name, reason)
};

// The label set Istio's metrics carry, rendered `{reporter="source",...}`.
std::string standardLabels(const ConnectionReport& report);

}  // namespace weft::ztunnel
