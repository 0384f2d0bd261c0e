#include "ztunnel/tcp_metrics.h"

#include <gtest/gtest.h>

namespace weft::ztunnel {
namespace {

ConnectionReport report() {
  ConnectionReport r;
  r.reporter = "destination";
  r.direction = "inbound";
  r.source = {"198.18.1.6:40000", "curl", "default", "spiffe://cluster.local/ns/default/sa/curl", "curl", "v1"};
  r.destination = {"198.18.1.5:8080", "httpbin", "default", "spiffe://cluster.local/ns/default/sa/httpbin", "httpbin", "v1"};
  r.destinationService = "httpbin.default.svc.cluster.local";
  r.mutualTls = true;
  r.requestBytes = 78;
  r.responseBytes = 512;
  return r;
}

TEST(TcpMetrics, CountsOpenCloseAndBytesPerLabelSet) {
  TcpMetrics metrics;
  auto r = report();
  metrics.opened(r);
  metrics.closed(r);
  metrics.opened(r);
  std::string text = metrics.prometheusText("");
  std::string labels = standardLabels(r);
  EXPECT_NE(text.find("istio_tcp_connections_opened_total" + labels + " 2"), std::string::npos) << text;
  EXPECT_NE(text.find("istio_tcp_connections_closed_total" + labels + " 1"), std::string::npos);
  EXPECT_NE(text.find("istio_tcp_sent_bytes_total" + labels + " 512"), std::string::npos);
  EXPECT_NE(text.find("istio_tcp_received_bytes_total" + labels + " 78"), std::string::npos);
  EXPECT_NE(labels.find("connection_security_policy=\"mutual_tls\""), std::string::npos);
  EXPECT_NE(labels.find("source_principal=\"spiffe://cluster.local/ns/default/sa/curl\""), std::string::npos);
  EXPECT_NE(labels.find("destination_service_name=\"unknown\""), std::string::npos);
}

TEST(TcpMetrics, EscapesLabelValues) {
  auto r = report();
  r.source.workload = "a\"b\\c\nd";
  EXPECT_NE(standardLabels(r).find(R"(source_workload="a\"b\\c\nd")"), std::string::npos) << standardLabels(r);
}

TEST(TcpMetrics, NamedCountersByReason) {
  TcpMetrics metrics;
  metrics.count("weft_ztunnel_refused_total", "registry_only");
  metrics.count("weft_ztunnel_refused_total", "registry_only");
  EXPECT_NE(metrics.prometheusText("").find("weft_ztunnel_refused_total{reason=\"registry_only\"} 2"), std::string::npos);
}

TEST(AccessLog, NamesBothIdentitiesAndTheBytes) {
  std::string line = accessLogLine(report());
  EXPECT_NE(line.find("src.identity=\"spiffe://cluster.local/ns/default/sa/curl\""), std::string::npos) << line;
  EXPECT_NE(line.find("dst.service=\"httpbin.default.svc.cluster.local\""), std::string::npos);
  EXPECT_NE(line.find("direction=\"inbound\""), std::string::npos);
  EXPECT_NE(line.find("bytes_sent=78 bytes_recv=512"), std::string::npos);
  EXPECT_EQ(line.rfind("connection complete", 0), 0u);
}

}  // namespace
}  // namespace weft::ztunnel
