#include "proxy/request_telemetry.h"

#include <gtest/gtest.h>

namespace weft::proxy {
namespace {

RequestRecord sample() {
  RequestRecord r;
  r.start = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  r.method = "GET";
  r.path = "/get";
  r.responseCode = 200;
  r.responseFlags = "-";
  r.bytesSent = 120;
  r.durationMs = 3;
  r.upstreamServiceTime = "2";
  r.userAgent = "curl/7.88.1";
  r.requestId = "abc";
  r.authority = "example.com";
  r.upstreamHost = "198.18.2.2:8080";
  r.destinationService = "httpbin.default.svc.cluster.local";
  r.destinationServiceNamespace = "default";
  return r;
}

TEST(RequestTelemetry, AccessLogInEnvoysDefaultFormat) {
  EXPECT_EQ(accessLogLine(sample()),
            "[2023-11-14T22:13:20.123Z] \"GET /get HTTP/1.1\" 200 - 0 120 3 2 \"-\" \"curl/7.88.1\" \"abc\" \"example.com\" \"198.18.2.2:8080\"\n");
}

TEST(RequestTelemetry, IstioStandardMetrics) {
  RequestMetrics metrics({"global-ingress", "istio-system", "global-ingress"});
  metrics.record(sample());
  auto nr = sample();
  nr.responseCode = 404;
  nr.responseFlags = "NR";
  nr.destinationService.clear();
  nr.durationMs = 0;
  metrics.record(nr);
  auto text = metrics.prometheusText();
  EXPECT_NE(text.find("istio_requests_total{reporter=\"source\",source_workload=\"global-ingress\",source_workload_namespace=\"istio-system\""),
            std::string::npos);
  EXPECT_NE(text.find("destination_service=\"httpbin.default.svc.cluster.local\",destination_service_name=\"httpbin\""), std::string::npos);
  EXPECT_NE(text.find("response_code=\"404\",grpc_response_status=\"\",response_flags=\"NR\""), std::string::npos);
  EXPECT_NE(text.find("le=\"5\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE istio_request_duration_milliseconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace weft::proxy

namespace weft::proxy {
namespace {

TEST(RequestTelemetry, AWaypointReportsTheClientPrincipalAsTheSource) {
  SourceWorkload waypoint{"waypoint", "shop", "waypoint"};
  waypoint.reporter = "waypoint";
  RequestMetrics metrics(waypoint);
  RequestRecord r;
  r.responseCode = 200;
  r.responseFlags = "-";
  r.destinationService = "hb.shop.svc.cluster.local";
  r.destinationServiceNamespace = "shop";
  r.sourcePrincipal = "spiffe://acmellc.local/ns/front/sa/curl";
  metrics.record(r);
  std::string text = metrics.prometheusText();
  EXPECT_NE(text.find("istio_requests_total{reporter=\"waypoint\",source_workload=\"unknown\",source_workload_namespace=\"front\","
                      "source_principal=\"spiffe://acmellc.local/ns/front/sa/curl\""),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace weft::proxy

namespace weft::proxy {
namespace {

TEST(RequestTelemetry, BodySizesAreHistogramsWithIstiosBuckets) {
  RequestMetrics metrics({"global-ingress", "istio-system", "global-ingress"});
  auto r = sample();
  r.bytesReceived = 1024;
  r.bytesSent = 5;
  metrics.record(r);
  r.bytesReceived = 0;
  r.bytesSent = 200000;
  metrics.record(r);
  std::string text = metrics.prometheusText();
  EXPECT_NE(text.find("# TYPE istio_request_bytes histogram"), std::string::npos);
  EXPECT_NE(text.find("# TYPE istio_response_bytes histogram"), std::string::npos);
  // Request sizes 1024 and 0: one at or below 1, both at or below 10000.
  EXPECT_NE(text.find("response_flags=\"-\",connection_security_policy=\"unknown\",le=\"1\"} 1\nistio_request_bytes_bucket"), std::string::npos)
      << text;
  EXPECT_NE(text.find("istio_request_bytes_sum{"), std::string::npos);
  auto sumAt = text.find("istio_request_bytes_sum{");
  EXPECT_NE(text.find("} 1024\n", sumAt), std::string::npos);
  auto responseSum = text.find("istio_response_bytes_sum{");
  ASSERT_NE(responseSum, std::string::npos);
  EXPECT_EQ(text.substr(text.find("} ", responseSum), 10), "} 200005\ni");
  // 200000 is above 100000: the le="100000" response bucket holds only the 5-byte answer.
  EXPECT_NE(text.find("le=\"100000\"} 1\nistio_response_bytes_bucket"), std::string::npos);
}

TEST(RequestTelemetry, GrpcRequestsAreLabelledWithTheirStatus) {
  EXPECT_TRUE(isGrpcContentType("application/grpc"));
  EXPECT_TRUE(isGrpcContentType("application/grpc+proto"));
  EXPECT_TRUE(isGrpcContentType("Application/GRPC;charset=utf-8"));
  EXPECT_FALSE(isGrpcContentType("application/grpc-web"));
  EXPECT_FALSE(isGrpcContentType("application/json"));
  EXPECT_FALSE(isGrpcContentType(""));
  RequestMetrics metrics({"global-ingress", "istio-system", "global-ingress"});
  auto r = sample();
  r.grpc = true;
  r.grpcStatus = "14";
  metrics.record(r);
  metrics.record(sample());
  std::string text = metrics.prometheusText();
  EXPECT_NE(text.find("request_protocol=\"grpc\",response_code=\"200\",grpc_response_status=\"14\""), std::string::npos) << text;
  EXPECT_NE(text.find("request_protocol=\"http\",response_code=\"200\",grpc_response_status=\"\""), std::string::npos);
}

}  // namespace
}  // namespace weft::proxy
