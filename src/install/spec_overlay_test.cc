#include "install/spec_overlay.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace weft::install {
namespace {

namespace json = boost::json;

json::object parse(std::string_view text) { return json::parse(text).as_object(); }

std::string overlaid(std::string_view base, std::string_view top) {
  json::object merged = parse(base);
  overlaySpec(merged, parse(top));
  return json::serialize(merged);
}

TEST(SpecOverlay, MergesMappingsAndReplacesScalarsAndLists) {
  EXPECT_EQ(overlaid(R"({"meshConfig":{"trustDomain":"a","accessLogFile":"x","trustDomainAliases":["p","q"]}})",
                     R"({"meshConfig":{"trustDomain":"b","trustDomainAliases":["r"]},"revision":"prod"})"),
            R"({"meshConfig":{"trustDomain":"b","accessLogFile":"x","trustDomainAliases":["r"]},"revision":"prod"})");
}

TEST(SpecOverlay, NullRemovesAKey) {
  EXPECT_EQ(overlaid(R"({"meshConfig":{"trustDomain":"a"},"values":{"x":1}})", R"({"values":null})"),
            R"({"meshConfig":{"trustDomain":"a"}})");
}

TEST(SpecOverlay, MergesGatewaysByName) {
  std::string profile =
      R"({"components":{"ingressGateways":[{"name":"istio-ingressgateway","enabled":true,"k8s":{"replicaCount":2}}]}})";
  EXPECT_EQ(
      overlaid(profile, R"({"components":{"ingressGateways":[{"name":"istio-ingressgateway","enabled":false}]}})"),
      R"({"components":{"ingressGateways":[{"name":"istio-ingressgateway","enabled":false,"k8s":{"replicaCount":2}}]}})");
  EXPECT_EQ(
      overlaid(profile, R"({"components":{"ingressGateways":[{"name":"edge"}]}})"),
      R"({"components":{"ingressGateways":[{"name":"istio-ingressgateway","enabled":true,"k8s":{"replicaCount":2}},{"name":"edge"}]}})");
}

TEST(SpecOverlay, ReplacesExtensionProvidersByName) {
  EXPECT_EQ(
      overlaid(
          R"({"extensionProviders":[{"name":"envoy","envoyFileAccessLog":{"path":"/dev/stdout"}},{"name":"p","prometheus":{}}]})",
          R"({"extensionProviders":[{"name":"envoy","opentelemetry":{"service":"otel"}}]})"),
      R"({"extensionProviders":[{"name":"envoy","opentelemetry":{"service":"otel"}}]})")
      << "outside meshConfig the list is an ordinary one, replaced whole";
  json::object mesh = parse(
      R"({"extensionProviders":[{"name":"envoy","envoyFileAccessLog":{"path":"/dev/stdout"}},{"name":"p","prometheus":{}}]})");
  overlaySpec(mesh, parse(R"({"extensionProviders":[{"name":"envoy","opentelemetry":{"service":"otel"}}]})"),
              "meshConfig");
  EXPECT_EQ(
      json::serialize(mesh),
      R"({"extensionProviders":[{"name":"envoy","opentelemetry":{"service":"otel"}},{"name":"p","prometheus":{}}]})");
}

}  // namespace
}  // namespace weft::install
